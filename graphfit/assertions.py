"""Assertions: inequalities between parameters that restrict the posterior.

Comparing a prior or a relation with ``>``, ``<``, ``>=`` or ``<=`` (with another prior, a relation
or a number) gives an :class:`Assertion`; ``model.add_assertion(model.a > model.b)`` attaches it
to a model.  The compiler turns each assertion into a hard constraint of the joint PyMC model: a
``pm.Potential`` named ``assertion_<k>`` that is 0 where the assertion holds and ``-inf``
elsewhere, so the posterior is the unconstrained one restricted to where every assertion holds
(and renormalised).  Chains start only at points that satisfy every assertion (see
:mod:`graphfit.start`).

Comparison operators are the only thing priors gain: ``==`` and hashing stay those of objects
(a prior is a parameter by identity), and an assertion has no truth value, so ``if prior > 0``
raises instead of silently being true.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import ConstraintError
from graphfit.relations import Expression, as_operand

if TYPE_CHECKING:
    from graphfit.priors import Prior

__all__ = ["Assertion"]

#: Operator symbol -> (numpy function, name of the PyTensor function).
_OPS: dict[str, tuple[Any, str]] = {
    ">": (np.greater, "gt"),
    "<": (np.less, "lt"),
    ">=": (np.greater_equal, "ge"),
    "<=": (np.less_equal, "le"),
}


class Assertion:
    """An inequality between priors, relations and numbers, e.g. ``model.a > model.b``.

    Made by comparing a prior or relation, not usually by calling this class; give it to
    :meth:`graphfit.Model.add_assertion`.

    Parameters
    ----------
    op
        ``">"``, ``"<"``, ``">="`` or ``"<="``.
    left, right
        Priors, relations or finite numbers; at least one is a prior or relation.

    Examples
    --------
    >>> import graphfit as gf
    >>> a = gf.UniformPrior(0.0, 10.0, name="a")
    >>> b = gf.UniformPrior(0.0, 10.0, name="b")
    >>> assertion = a > b + 1.0
    >>> assertion
    Assertion(a > b + 1.0)
    >>> bool(assertion.holds({a: 5.0, b: 3.0})), bool(assertion.holds({a: 5.0, b: 4.5}))
    (True, False)
    >>> 2.0 <= a  # a number on the left is turned around
    Assertion(a >= 2.0)
    """

    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: Any, right: Any) -> None:
        if op not in _OPS:
            raise ConstraintError(f"Assertion: op must be one of {list(_OPS)}, got {op!r}.")
        context = f"assertion '{op}'"
        self.op = op
        self.left = as_operand(left, context=context)
        self.right = as_operand(right, context=context)
        if not (isinstance(self.left, Expression) or isinstance(self.right, Expression)):
            raise ConstraintError(
                f"Assertion: {self.left!r} {op} {self.right!r} compares two numbers; an "
                "assertion needs a prior or relation on at least one side."
            )

    def priors(self) -> list[Prior]:
        """The free priors the assertion depends on, in order of first appearance."""
        found: dict[int, Prior] = {}
        for side in (self.left, self.right):
            if isinstance(side, Expression):
                for prior in side.priors():
                    found.setdefault(id(prior), prior)
        return list(found.values())

    def _values(self, values: Mapping[Prior, Any], xp: Any) -> tuple[Any, Any]:
        return tuple(  # type: ignore[return-value]
            side.evaluate(values, xp) if isinstance(side, Expression) else side
            for side in (self.left, self.right)
        )

    def holds(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        """Whether the assertion holds for these prior values (a boolean array or tensor)."""
        left, right = self._values(values, xp)
        numpy_op, tensor_op = _OPS[self.op]
        if xp is np:
            return numpy_op(left, right)
        return getattr(xp, tensor_op)(left, right)

    def log_potential(self, values: Mapping[Prior, Any], xp: Any) -> Any:
        """0 where the assertion holds and ``-inf`` elsewhere, computed with namespace ``xp``."""
        if xp is np:
            return np.where(self.holds(values, xp), 0.0, -np.inf)
        return xp.switch(self.holds(values, xp), 0.0, -np.inf)

    def expression_text(self, names: Mapping[Prior, str]) -> str:
        """Readable inequality, with each prior written by its name in ``names``."""

        def text(side: Any) -> str:
            if isinstance(side, Expression):
                return side.expression_text(names)
            return repr(float(side))

        return f"{text(self.left)} {self.op} {text(self.right)}"

    def __bool__(self) -> bool:
        raise ConstraintError(
            f"{self!r} has no truth value: comparing priors or relations makes an assertion. "
            "Pass it to model.add_assertion(...) to restrict the fit, or compare numbers "
            "(e.g. prior.lower_limit) instead."
        )

    def __repr__(self) -> str:
        names = {p: p.name or f"{type(p).__name__}#{p.id}" for p in self.priors()}
        return f"Assertion({self.expression_text(names)})"
