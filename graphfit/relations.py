"""Relations: derived parameters built by arithmetic on priors, relations and numbers.

A :class:`Relation` is an immutable expression tree.  It holds numbers and structure only; the
compiler evaluates it with a PyTensor namespace (the result becomes a ``pm.Deterministic``) and
results evaluate it with numpy.  :class:`Expression` is the mixin that gives priors and relations
their arithmetic operators.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import RelationError

if TYPE_CHECKING:
    from graphfit.assertions import Assertion
    from graphfit.priors import Prior

__all__ = ["FUNCTIONS", "Expression", "Relation", "as_operand"]

# Binary operators: symbol shown in text, and the function applied to evaluated operands.
_BINARY: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "add": ("+", lambda a, b: a + b),
    "sub": ("-", lambda a, b: a - b),
    "mul": ("*", lambda a, b: a * b),
    "truediv": ("/", lambda a, b: a / b),
    "pow": ("**", lambda a, b: a**b),
}

#: Element-wise functions available in :mod:`graphfit.math`; each is looked up by name on the
#: array namespace (numpy or the PyTensor namespace) when the relation is evaluated.
FUNCTIONS: tuple[str, ...] = (
    "exp",
    "log",
    "log10",
    "log1p",
    "expm1",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
)


def as_operand(value: Any, *, context: str) -> Expression | float:
    """Check that ``value`` can take part in a relation and return it.

    Parameters
    ----------
    value
        A prior, a relation or a finite real number.
    context
        Text naming the operation, used in the error message.

    Raises
    ------
    RelationError
        If ``value`` is of any other type, or a non-finite number.
    """
    if isinstance(value, Expression):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
        if not math.isfinite(value):
            raise RelationError(
                f"{context}: the number {value!r} is not finite; a relation may only mix in "
                "finite numbers, priors and relations."
            )
        return value
    raise RelationError(
        f"{context}: got {value!r} of type {type(value).__name__}; a relation may only mix "
        "priors, relations and finite real numbers (int or float)."
    )


class Expression:
    """Mixin that gives priors and relations arithmetic, producing :class:`Relation` objects.

    Identity matters: two expressions are the same parameter only if they are the same object,
    so this class does not define ``__eq__`` or ``__hash__``.  The comparisons ``>``, ``<``,
    ``>=`` and ``<=`` give an :class:`~graphfit.assertions.Assertion` for
    ``model.add_assertion``.
    """

    __slots__ = ()

    def _binary(self, op: str, other: Any, reflected: bool = False) -> Relation:
        symbol = _BINARY[op][0]
        other = as_operand(other, context=f"relation '{symbol}'")
        operands = (other, self) if reflected else (self, other)
        return Relation(op, operands)

    def __add__(self, other: Any) -> Relation:
        return self._binary("add", other)

    def __radd__(self, other: Any) -> Relation:
        return self._binary("add", other, reflected=True)

    def __sub__(self, other: Any) -> Relation:
        return self._binary("sub", other)

    def __rsub__(self, other: Any) -> Relation:
        return self._binary("sub", other, reflected=True)

    def __mul__(self, other: Any) -> Relation:
        return self._binary("mul", other)

    def __rmul__(self, other: Any) -> Relation:
        return self._binary("mul", other, reflected=True)

    def __truediv__(self, other: Any) -> Relation:
        return self._binary("truediv", other)

    def __rtruediv__(self, other: Any) -> Relation:
        return self._binary("truediv", other, reflected=True)

    def __pow__(self, other: Any) -> Relation:
        return self._binary("pow", other)

    def __rpow__(self, other: Any) -> Relation:
        return self._binary("pow", other, reflected=True)

    def __neg__(self) -> Relation:
        return Relation("neg", (self,))

    def __pos__(self) -> Expression:
        return self

    def __abs__(self) -> Relation:
        return Relation("abs", (self,))

    # -- comparisons make assertions (``==`` stays identity: see the class docstring) -------
    def _compare(self, op: str, other: Any) -> Assertion:
        from graphfit.assertions import Assertion

        return Assertion(op, self, other)

    def __gt__(self, other: Any) -> Assertion:
        return self._compare(">", other)

    def __lt__(self, other: Any) -> Assertion:
        return self._compare("<", other)

    def __ge__(self, other: Any) -> Assertion:
        return self._compare(">=", other)

    def __le__(self, other: Any) -> Assertion:
        return self._compare("<=", other)

    # -- the interface priors and relations share -------------------------------------------
    def priors(self) -> list[Prior]:
        """The free priors this expression depends on, in order of first appearance."""
        raise NotImplementedError

    def evaluate(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        """Value of the expression given a value for each prior, computed with namespace ``xp``."""
        raise NotImplementedError

    def expression_text(self, names: Mapping[Prior, str]) -> str:
        """Readable formula, with each prior written by its name in ``names``."""
        raise NotImplementedError


def _format_number(value: float) -> str:
    return repr(float(value))


class Relation(Expression):
    """A derived parameter: an operation applied to priors, relations and numbers.

    Relations are made by arithmetic (``sigma_m * x + sigma_c``) or by :mod:`graphfit.math`
    functions, not usually by calling this class.

    Parameters
    ----------
    op
        ``"add"``, ``"sub"``, ``"mul"``, ``"truediv"``, ``"pow"``, ``"neg"`` or the name of a
        :mod:`graphfit.math` function (:data:`~graphfit.relations.FUNCTIONS`).
    operands
        Tuple of priors, relations and floats.

    Examples
    --------
    >>> import graphfit as gf
    >>> m = gf.UniformPrior(-10.0, 10.0, name="m")
    >>> c = gf.UniformPrior(-10.0, 10.0, name="c")
    >>> relation = m * 2.0 + c
    >>> relation.evaluate({m: 3.0, c: 1.0})
    7.0
    """

    __slots__ = ("op", "operands")

    def __init__(self, op: str, operands: tuple[Expression | float, ...]) -> None:
        if op not in _BINARY and op != "neg" and op not in FUNCTIONS:
            raise RelationError(f"unknown relation operation {op!r}")
        self.op = op
        self.operands = tuple(as_operand(o, context=f"relation '{op}'") for o in operands)

    def priors(self) -> list[Prior]:
        found: dict[int, Prior] = {}
        for operand in self.operands:
            if isinstance(operand, Expression):
                for prior in operand.priors():
                    found.setdefault(id(prior), prior)
        return list(found.values())

    def constants(self) -> list[float]:
        """The numbers in the expression, depth first, left to right."""
        out: list[float] = []
        for operand in self.operands:
            if isinstance(operand, Relation):
                out.extend(operand.constants())
            elif not isinstance(operand, Expression):
                out.append(operand)
        return out

    def evaluate(self, values: Mapping[Prior, Any], xp: Any = np) -> Any:
        args = [o.evaluate(values, xp) if isinstance(o, Expression) else o for o in self.operands]
        if self.op in _BINARY:
            return _BINARY[self.op][1](*args)
        if self.op == "neg":
            return -args[0]
        return getattr(xp, self.op)(args[0])

    def expression_text(self, names: Mapping[Prior, str]) -> str:
        def text(operand: Any) -> str:
            if isinstance(operand, Relation) and (operand.op in _BINARY or operand.op == "neg"):
                return f"({operand.expression_text(names)})"
            if isinstance(operand, Expression):
                return operand.expression_text(names)
            return _format_number(operand)

        if self.op in _BINARY:
            return f"{text(self.operands[0])} {_BINARY[self.op][0]} {text(self.operands[1])}"
        if self.op == "neg":
            return f"-{text(self.operands[0])}"
        inner = self.operands[0]
        inner_text = inner.expression_text(names) if isinstance(inner, Expression) else text(inner)
        return f"{self.op}({inner_text})"

    def __repr__(self) -> str:
        names = {p: p.name or f"{type(p).__name__}#{p.id}" for p in self.priors()}
        return f"Relation({self.expression_text(names)})"
