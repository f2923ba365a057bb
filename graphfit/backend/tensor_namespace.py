"""The PyTensor array namespace passed as ``xp`` to user code when the model is compiled.

It is :mod:`pytensor.tensor` with the numpy names PyTensor lacks (``asarray``, ``array``) added,
so component code written as ``xp.exp(...)``, ``xp.sum(...)``, ``xp.pi`` works with numpy and,
unchanged, builds a differentiable PyTensor graph.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PyTensorNamespace", "pytensor_namespace"]


class PyTensorNamespace:
    """``pytensor.tensor`` with numpy-compatible extras; attribute access falls through."""

    def __init__(self) -> None:
        import pytensor.tensor as pt

        self._pt = pt

    def asarray(self, value: Any, dtype: Any = None) -> Any:
        """Tensor from a number, array or tensor (numpy's ``asarray``)."""
        tensor = self._pt.as_tensor_variable(value)
        return tensor.astype(dtype) if dtype is not None else tensor

    array = asarray

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pt, name)

    def __repr__(self) -> str:
        return "<graphfit PyTensor namespace>"


_NAMESPACE: PyTensorNamespace | None = None


def pytensor_namespace() -> PyTensorNamespace:
    """The shared :class:`PyTensorNamespace` instance."""
    global _NAMESPACE
    if _NAMESPACE is None:
        _NAMESPACE = PyTensorNamespace()
    return _NAMESPACE
