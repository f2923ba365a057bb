"""Element-wise functions for relations: ``gf.math.exp(prior)`` gives a derived parameter.

Each function accepts a prior, a relation or a number.  Given a prior or relation it returns a
:class:`~graphfit.Relation`; given a plain number it returns the numpy result, so the
functions also work on the fixed values of a model.

Examples
--------
>>> import graphfit as gf
>>> log_sigma = gf.UniformPrior(-2.0, 3.0, name="log_sigma")
>>> sigma = gf.math.exp(log_sigma)
>>> round(float(sigma.evaluate({log_sigma: 0.0})), 6)
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphfit.spec.relations import FUNCTIONS, Expression, Relation, as_operand

__all__ = list(FUNCTIONS)


def _make(name: str):
    def function(x: Any) -> Any:
        value = as_operand(x, context=f"gf.math.{name}")
        if isinstance(value, Expression):
            return Relation(name, (value,))
        return getattr(np, name)(value)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = (
        f"Element-wise ``{name}`` of a prior, relation or number.\n\n"
        "Returns a :class:`~graphfit.Relation` for a prior or relation (compiled to a\n"
        "``pm.Deterministic``) and a float for a number.\n\n"
        "Examples\n--------\n"
        ">>> import graphfit as gf\n"
        f">>> gf.math.{name}(gf.UniformPrior(0.1, 0.9, name='p'))\n"
        f"Relation({name}(p))\n"
    )
    return function


exp = _make("exp")
log = _make("log")
log10 = _make("log10")
log1p = _make("log1p")
expm1 = _make("expm1")
sqrt = _make("sqrt")
abs = _make("abs")
sin = _make("sin")
cos = _make("cos")
tan = _make("tan")
arcsin = _make("arcsin")
arccos = _make("arccos")
arctan = _make("arctan")
sinh = _make("sinh")
cosh = _make("cosh")
tanh = _make("tanh")
