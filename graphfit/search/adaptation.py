"""NUTS's target acceptance rate at ``target_accept="auto"``: chosen from the model's structure.

Step-size adaptation aims at a mean acceptance rate; a higher target gives a smaller step,
which follows sharper curvature at the cost of longer trajectories.  0.8 suits most posteriors.
A population whose datasets pin their drawn parameters only weakly (non-centred, or centred
because it is truncated) keeps some of a funnel's geometry: where the population's spread
approaches zero, and in the datasets' own weakly constrained parameters.  There 0.8 leaves
divergences and, for some seeds, a chain whose step size adapted to the wrong region.  A
marginalised population has no such geometry left (its drawn parameters are integrated out):
on ``tests/test_marginal.py``'s weak-data population, seeds 1-8, 0.95 gave no fewer
divergences (none either way) and a lower bulk ESS (510-715 against 540-717) than 0.8.

Measured on the workspace's ``gaussian_x1__hierarchical`` data (10 weak datasets; non-centred
by ``"auto"``), ``gf.NUTS()`` 4 x 1000 draws, seeds 1-15, nutpie:

- 0.8: divergences per seed median 7, largest 371; hyperparameter R-hat above 1.01 for 3 of
  15 seeds; 2.4 s per fit.
- 0.9: median 4, largest 26; 1 of 15; 2.3 s.
- 0.95: median 2, largest 7; 0 of 15; 2.8 s.
- 0.99 (seeds 1-8): median 0.5, largest 4; 0 of 8; 5.0-11.9 s.

(R-hat as ``az.summary`` rounds it, to two decimals.)

The divergences left at 0.95 sit where a dataset's Gaussian width approaches zero: a feature
of that weak dataset's own likelihood, which the hand-written non-centred model shares
(``benchmarks/divergences.py``).  So ``"auto"`` is 0.95 for such populations and 0.8 otherwise;
strong data (centred populations), marginalised populations and models without populations keep
0.8 and their speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphfit.exceptions import SearchError
from graphfit.spec.hierarchical import WEAK_DATA_RATIO

if TYPE_CHECKING:
    from graphfit.backend.compiled import CompiledGraph

__all__ = ["TARGET_ACCEPT", "WEAK_POPULATION_TARGET_ACCEPT", "check_target_accept", "choose"]

#: ``"auto"``'s target for models without weakly constrained populations (PyMC's and nutpie's
#: own default).
TARGET_ACCEPT = 0.8
#: ``"auto"``'s target when a population's datasets constrain their drawn parameters weakly.
WEAK_POPULATION_TARGET_ACCEPT = 0.95


def check_target_accept(value: Any) -> float | str:
    """``"auto"`` or a float in (0, 1); anything else is a :class:`~graphfit.SearchError`.

    Examples
    --------
    >>> import graphfit as gf
    >>> check_target_accept("auto"), check_target_accept(0.9)
    ('auto', 0.9)
    >>> try:
    ...     check_target_accept(1.0)
    ... except gf.SearchError as error:
    ...     print(error)
    NUTS: target_accept must be "auto" or a number in (0, 1), got 1.0.
    """
    if isinstance(value, str) and value == "auto":
        return value
    number = None
    if not isinstance(value, bool | str):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    if number is None or not 0.0 < number < 1.0:
        raise SearchError(
            f'NUTS: target_accept must be "auto" or a number in (0, 1), got {value!r}.'
        )
    return number


def _weak(population: Any) -> bool:
    """Whether a population's datasets pin its drawn parameters only weakly."""
    chosen = population.resolved_parametrization
    if chosen != "centred":
        return chosen == "non_centred"
    if population.parametrization == "auto" and population.truncated:
        strength = population.data_strength  # a truncated population is centred regardless
        return strength is None or strength > WEAK_DATA_RATIO
    return False


def choose(target_accept: float | str, compiled: CompiledGraph) -> tuple[float, str]:
    """The target acceptance rate a fit of ``compiled`` uses, and one line saying why.

    Examples
    --------
    >>> import graphfit as gf
    >>> from graphfit.backend.compile import compile_graph
    >>> analysis = gf.ex.Analysis(*gf.ex.simulate_gaussian_dataset(seed=0))
    >>> graph = gf.FactorGraphModel(gf.AnalysisFactor(gf.Model(gf.ex.Gaussian), analysis))
    >>> choose("auto", compile_graph(graph))
    (0.8, 'target_accept 0.8: "auto", no population with weakly constrained members')
    >>> choose(0.9, compile_graph(graph))
    (0.9, 'target_accept 0.9: chosen with target_accept=0.9')
    """
    if target_accept != "auto":
        return float(target_accept), f"target_accept {target_accept:g}: chosen with " + (
            f"target_accept={target_accept:g}"
        )
    weak = [name for name, population in compiled.plan.populations if _weak(population)]
    if weak:
        value = WEAK_POPULATION_TARGET_ACCEPT
        return value, (
            f'target_accept {value:g}: "auto", population(s) {", ".join(weak)} constrain '
            "their drawn parameters weakly (a funnel's remnants need a smaller step)"
        )
    return TARGET_ACCEPT, (
        f'target_accept {TARGET_ACCEPT:g}: "auto", no population with weakly constrained members'
    )
