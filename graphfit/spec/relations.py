"""Relations: derived parameters built by arithmetic on priors, relations and numbers.

A :class:`Relation` is an immutable expression tree.  It holds numbers and structure only; the
compiler evaluates it with a PyTensor namespace (the result becomes a ``pm.Deterministic``) and
results evaluate it with numpy.  :class:`Expression` is the mixin that gives priors and relations
their arithmetic operators.

Assertions
----------
Inequalities between parameters that restrict the posterior.

Comparing a prior or a relation with ``>``, ``<``, ``>=`` or ``<=`` (with another prior, a relation
or a number) gives an :class:`Assertion`; ``model.add_assertion(model.a > model.b)`` attaches it
to a model.  The compiler turns each assertion into a hard constraint of the joint PyMC model: a
``pm.Potential`` named ``assertion_<k>`` that is 0 where the assertion holds and ``-inf``
elsewhere, so the posterior is the unconstrained one restricted to where every assertion holds
(and renormalised).  Chains start only at points that satisfy every assertion (see
:mod:`graphfit.search.start`).

Comparison operators are the only thing priors gain: ``==`` and hashing stay those of objects
(a prior is a parameter by identity), and an assertion has no truth value, so ``if prior > 0``
raises instead of silently being true.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import ConstraintError, RelationError

if TYPE_CHECKING:
    from graphfit.spec.priors import Prior

__all__ = [
    "FUNCTIONS",
    "Assertion",
    "Expression",
    "Relation",
    "as_operand",
]

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
    ``>=`` and ``<=`` give an :class:`~Assertion` for
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
        :mod:`graphfit.math` function (:data:`~graphfit.spec.relations.FUNCTIONS`).
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
            raise RelationError(
                f"Relation: op must be one of {', '.join([*_BINARY, 'neg', *FUNCTIONS])}, got "
                f"{op!r}."
            )
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
