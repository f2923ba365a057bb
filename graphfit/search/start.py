"""Starting points: where chains start and where the MAP optimiser lands.

NUTS needs chains to start where the model is well defined and the likelihood has a gradient.
Prior medians can sit on a singular point (``sigma = m*x + c`` is 0 at the medians of symmetric
priors) and a random start far from the data can leave a chain on a flat plateau.  So graphfit
draws random points in the unconstrained space around PyMC's initial point, keeps the ones with
the highest log density, polishes them with L-BFGS, and starts every chain from the best optimum
with a small jitter scaled by the optimiser's curvature estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from graphfit.backend.transforms import backward_values, forward_values, ravel_pair
from graphfit.exceptions import ConstraintError, SearchError
from graphfit.plan.start_values import data_start, prior_medians

if TYPE_CHECKING:
    import pymc as pm

__all__ = ["Optimum", "StartFinder", "cached_start_finder", "data_start", "prior_medians"]

#: Above this many free coordinates, only the prior-median start and the best random start are
#: polished (random starts rarely help there and each costs many gradient evaluations).
HIGH_DIMENSION = 200
#: Random starts polished in addition, in at most HIGH_DIMENSION dimensions, chosen far from the
#: others so that separated modes are found.
DIVERSE_STARTS = 2


@dataclass
class Optimum:
    """An optimum found: unconstrained vector, its log density, a scale per coordinate,
    whether the optimiser converged there, and whether it was polished from a data start
    (see :func:`~graphfit.plan.start_values.data_start`)."""

    x: np.ndarray
    logp: float
    scale: np.ndarray
    converged: bool = True
    from_data: bool = False


class StartFinder:
    """Compiled helpers for optimisation and for turning unconstrained points into values.

    Parameters
    ----------
    model
        The compiled ``pm.Model``.
    jacobian
        Include the log-Jacobian of the transforms (``True``: mode in the sampler's space, used
        for chain starts; ``False``: the true MAP in the parameters' space).
    medians
        Prior medians by variable name, the centre of the random starting points.
    assertions
        ``(text, check)`` per assertion of the model (see
        :meth:`graphfit.backend.compiled.CompiledGraph.assertion_checks`), used to raise
        :class:`~graphfit.ConstraintError` naming them when no starting point satisfies them.
    gradient
        Compile and use the gradient (``True``); ``False`` for models without one (black-box
        likelihoods): the optimiser is then Powell's gradient-free method.
    logp_grad
        A compiled function of the flat unconstrained vector returning the log density (with
        the Jacobian) and its gradient, used instead of compiling one (nutpie's ``logp_func``).
    extra_starts
        More starting points, as ``medians`` are given (values by variable name, the model's
        own initial value for a variable not named), always polished after the medians' (see
        :func:`~graphfit.plan.start_values.data_start`).
    """

    def __init__(
        self,
        model: pm.Model,
        *,
        jacobian: bool = True,
        medians: dict[str, Any] | None = None,
        gradient: bool = True,
        assertions: Sequence[tuple[str, Callable[[dict[str, Any]], bool]]] = (),
        logp_grad: Callable[[np.ndarray], tuple[Any, np.ndarray]] | None = None,
        extra_starts: Sequence[dict[str, Any]] = (),
    ) -> None:
        import pytensor.tensor as pt
        from pymc.blocking import DictToArrayBijection

        self.model = model
        #: The compiled graph whose starts the finder holds (see :func:`cached_start_finder`).
        self.starts_for: Any = None
        self.initial_point = self._initial_point(medians)
        self._start = DictToArrayBijection.map(self.initial_point)
        self.gradient = bool(gradient)
        if logp_grad is not None:
            self.use_logp_grad(logp_grad)
        else:
            # One compiled function for the log density and its gradient.
            value_vars = model.value_vars
            logp = model.logp(jacobian=jacobian)
            # one gradient per variable of the list (pt.grad's annotation allows one or None)
            grads = cast("list[Any]", pt.grad(logp, value_vars)) if self.gradient else []
            function = model.compile_fn([logp, *grads], inputs=value_vars, point_fn=False)
            self._logp_grad = DictToArrayBijection.mapf(
                lambda point: ravel_pair(function(**point)), self.initial_point
            )
        self._values_fn: Any = None
        self.assertions = list(assertions)
        self.set_extra_starts(extra_starts)

    def use_logp_grad(self, logp_grad: Callable[[np.ndarray], tuple[Any, np.ndarray]]) -> None:
        """Search with ``logp_grad``: an already compiled log density and gradient of the flat
        unconstrained vector (nutpie's, or PyMC's NUTS step's; their layout is the model's
        value variables in order, as here)."""
        self._logp_grad = lambda point: logp_grad(np.asarray(point.data, dtype=float))

    def set_starts(
        self, medians: dict[str, Any] | None, extra_starts: Sequence[dict[str, Any]]
    ) -> None:
        """Replace the prior-median start and the extra starts (given as to the constructor):
        a finder reused for a model whose data or prior values were swapped takes the new
        graph's."""
        from pymc.blocking import DictToArrayBijection  # import time: it loads PyMC

        self.initial_point = self._initial_point(medians)
        self._start = DictToArrayBijection.map(self.initial_point)
        self.set_extra_starts(extra_starts)

    def set_extra_starts(self, extra_starts: Sequence[dict[str, Any]]) -> None:
        """Replace the extra starting points (given as to the constructor): a finder reused
        for a model whose data were swapped takes the new data's own starts."""
        from pymc.blocking import DictToArrayBijection  # import time: it loads PyMC

        # (a start whose log density is not finite is not polished, see find_optima)
        points = [self._medians_point(values) for values in extra_starts]
        self.extra_starts = [DictToArrayBijection.map(p).data for p in points if p is not None]

    def _initial_point(self, medians: dict[str, Any] | None) -> dict[str, np.ndarray]:
        """Prior medians in unconstrained space, by value variable (PyMC's own if unknown)."""
        point = self._medians_point(medians)
        return self.model.initial_point() if point is None else point

    def _medians_point(self, medians: dict[str, Any] | None) -> dict[str, np.ndarray] | None:
        """Prior medians in unconstrained space, by value variable (``None`` if unknown)."""
        model = self.model
        if medians is not None:
            try:
                point = {}
                default: dict[str, np.ndarray] | None = None
                for value in model.value_vars:
                    rv = model.values_to_rvs[value]
                    transform = model.rvs_to_transforms.get(rv)
                    if rv.name not in medians:  # e.g. the gap of an assertion: PyMC's own start
                        default = model.initial_point() if default is None else default
                        point[value.name] = default[value.name]
                        continue
                    constrained = np.asarray(medians[rv.name], dtype=float)
                    try:
                        forward = forward_values(transform, constrained, rv)
                    except NotImplementedError:  # bounds that depend on other variables
                        forward = np.full(np.shape(constrained), np.nan)
                    if not np.all(np.isfinite(forward)) and transform is not None:
                        # The median is outside the variable's (assertion-cut) interval: start
                        # at the interval's unconstrained centre instead.
                        forward = np.zeros(np.shape(constrained))
                    point[value.name] = forward
                if all(np.all(np.isfinite(v)) for v in point.values()):
                    return point
            except (KeyError, ValueError):
                pass
        return None

    @property
    def x0(self) -> np.ndarray:
        """PyMC's initial point as an unconstrained vector."""
        return self._start.data.copy()

    def logp(self, x: np.ndarray) -> float:
        """Log density at unconstrained ``x`` (``-inf`` where undefined)."""
        from pymc.blocking import RaveledVars

        with np.errstate(all="ignore"):
            value = float(self._logp_grad(RaveledVars(x, self._start.point_map_info))[0])
        return value if np.isfinite(value) else -np.inf

    def _negative_logp(self, x: np.ndarray) -> float:
        value = self.logp(x)
        return -value if np.isfinite(value) else 1e300

    def _cost(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        from pymc.blocking import RaveledVars

        point = RaveledVars(x, self._start.point_map_info)
        with np.errstate(all="ignore"):
            logp, grad = self._logp_grad(point)
            logp = float(logp)
        if not np.isfinite(logp) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(x)
        return -logp, -grad

    def optimise(
        self,
        rng: np.random.Generator,
        *,
        n_random: int = 200,
        n_optimise: int = 4,
        spread: float = 2.0,
    ) -> Optimum:
        """Random restarts in unconstrained space, then L-BFGS from the best few; the best
        optimum found (see :meth:`find_optima`).

        Raises
        ------
        SearchError
            When no random point has a finite log density.
        """
        return self.find_optima(rng, n_random=n_random, n_optimise=n_optimise, spread=spread)[0]

    def find_optima(
        self,
        rng: np.random.Generator,
        *,
        n_random: int = 200,
        n_optimise: int = 4,
        spread: float = 2.0,
        n_diverse: int = DIVERSE_STARTS,
    ) -> list[Optimum]:
        """Every optimum polished from the random restarts, best (highest log density) first.

        The prior-median start and the best ``n_optimise - 1`` random points are polished with
        L-BFGS, and in at most ``HIGH_DIMENSION`` (200) dimensions also ``n_diverse`` more, each
        the good random point (top quarter by log density) farthest from those already
        chosen, so that separated modes are found (see :mod:`graphfit.search.modes`).  The best
        optimum's ``scale`` is its curvature scale (:meth:`curvature_scale`); the others keep
        L-BFGS's inverse-Hessian estimate.

        Raises
        ------
        SearchError
            When no random point has a finite log density.
        """
        from scipy.optimize import minimize

        x0 = self.x0
        extra = self.extra_starts
        candidates = [x0, *extra] + [
            x0 + rng.uniform(-spread, spread, x0.size) for _ in range(n_random)
        ]
        scored = sorted(((self.logp(x), k) for k, x in enumerate(candidates)), key=lambda t: -t[0])
        finite = [(lp, k) for lp, k in scored if np.isfinite(lp)]
        if not finite and self.assertions:
            self._check_assertions(candidates)
        if not finite:
            raise SearchError(
                f"no starting point with a finite log density was found among {len(candidates)} "
                "points drawn around the priors' centres; check that the model's prediction is "
                "finite for typical parameter values (e.g. no division by a parameter that can "
                "be 0)."
            )
        # Always polish the prior-median start too (when it is finite), and first: in many
        # dimensions the best random points are rarely near every dataset's mode at once, while
        # the medians put each per-dataset parameter near the middle of its range.  Measured at
        # 1,000 datasets (2,001 dimensions): the median start converged in 148 L-BFGS iterations
        # (0.7 s) to the best optimum, random starts ran 2,000 iterations (12-15 s each) to worse
        # ones.  So once the median start has converged, random starts get a budget of a few
        # times its iterations, and in high dimension only the best random start is polished.
        # The extra starts (each dataset's own estimate, see data_start) are polished next.
        polishable = {k for _, k in finite}
        first = [k for k in range(1 + len(extra)) if k in polishable]
        rest = [k for _, k in finite if k not in first]
        chosen = [*first, *rest[: max(n_optimise - 1, 1) if 0 in first else n_optimise]]
        if x0.size <= HIGH_DIMENSION:
            pool = [k for _, k in finite[: max(len(finite) // 4, 1)] if k not in chosen]
            for _ in range(n_diverse):
                if not pool:
                    break
                distance = [
                    min(float(np.max(np.abs(candidates[k] - candidates[c]))) for c in chosen)
                    for k in pool
                ]
                chosen.append(pool.pop(int(np.argmax(distance))))
        maxiter = 2000
        found: list[Optimum] = []
        for position, k in enumerate(chosen):
            if position >= 2 + len(extra) and maxiter < 2000 and x0.size > HIGH_DIMENSION:
                break
            if self.gradient:
                result = minimize(
                    self._cost,
                    candidates[k],
                    jac=True,
                    method="L-BFGS-B",
                    options={"maxiter": maxiter},
                )
                if k == 0 and result.success:
                    maxiter = max(200, 4 * int(result.nit))
            else:
                result = minimize(
                    self._negative_logp,
                    candidates[k],
                    method="Powell",
                    options={"maxiter": 20000, "xtol": 1e-6, "ftol": 1e-10},
                )
            logp = self.logp(result.x)
            try:
                hess_inv = np.diag(result.hess_inv.todense())
            except AttributeError:
                hess_inv = np.full(x0.size, 1e-4)
            scale = np.sqrt(np.clip(hess_inv, 1e-12, 1.0))
            found.append(
                Optimum(
                    x=result.x,
                    logp=logp,
                    scale=scale,
                    converged=bool(result.success),
                    from_data=1 <= k <= len(extra),
                )
            )
        # best first; ties keep the polishing order (the median start first)
        found.sort(key=lambda o: -o.logp if np.isfinite(o.logp) else np.inf)
        best = found[0]
        if self.gradient:
            best.scale = self.curvature_scale(best.x, rng, fallback=best.scale)
        return found

    def chain_optima(self, optima: list[Optimum], rng: np.random.Generator) -> list[Optimum]:
        """Where chains start: ``optima`` (from :meth:`find_optima`), or the data start itself
        when the optimiser ran away from it.

        A centred population has a funnel: as its sigma goes to 0 with every drawn parameter
        at its mean, the density grows without bound, and an optimiser that gets near enough
        follows it (L-BFGS then stops unconverged, the sigma near 0).  Chains started there
        stay in the funnel's neck.  So when the best optimum and the one polished from the data
        start (each drawn parameter at its own dataset's estimate) both did not converge, the
        chains start at the data start unpolished, which lies in the posterior's bulk.
        Measured on the calibration benchmark's repeat 63 (true population sigma 1.4 pixels,
        each centre known to 0.8): every chain in the neck (R-hat above 1e7) before, R-hat
        1.008 and the exact posterior's 90% interval of the mean after.  An optimiser that
        stops in the neck and reports convergence is not caught here.
        """
        if not self.extra_starts or not optima or optima[0].converged:
            return optima
        if any(o.from_data and o.converged for o in optima):
            return optima
        x = self.extra_starts[0]
        logp = self.logp(x)
        if not np.isfinite(logp):
            return optima
        scale = optima[0].scale
        if self.gradient:
            scale = self.curvature_scale(x, rng, fallback=np.full(x.size, 0.1))
        return [Optimum(x=x.copy(), logp=logp, scale=scale, converged=False, from_data=True)]

    def curvature_scale(
        self,
        x: np.ndarray,
        rng: np.random.Generator,
        *,
        probes: int = 16,
        fallback: np.ndarray | None = None,
    ) -> np.ndarray:
        """Conditional posterior standard deviation of each coordinate at ``x``.

        ``1 / sqrt(H_ii)`` from the diagonal of the Hessian of ``-logp``, estimated with
        ``probes`` random +-1 vectors ``v`` as the mean of ``v * (g(x + h v) - g(x)) / h``
        (Bekas, Kokiopoulou & Saad 2007): ``probes`` gradient evaluations whatever the
        dimension.  L-BFGS's own inverse-Hessian diagonal is not used for this: in thousands
        of dimensions it is mostly its initial guess, and jittering chains by it was measured
        to put the shared centre of 1,000 datasets thousands of posterior standard deviations
        away, where two of four chains stayed.  Coordinates whose estimate is not positive keep
        ``fallback`` (or 0.1).
        """
        from pymc.blocking import RaveledVars

        def gradient(point: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                _, grad = self._logp_grad(RaveledVars(point, self._start.point_map_info))
            return -np.asarray(grad, dtype=float)

        step = 1e-5
        base = gradient(x)
        total = np.zeros_like(x)
        for _ in range(probes):
            v = rng.choice([-1.0, 1.0], size=x.size)
            total += v * (gradient(x + step * v) - base) / step
        diagonal = total / probes
        default = np.full(x.size, 0.1) if fallback is None else np.asarray(fallback, float)
        good = np.isfinite(diagonal) & (diagonal > 0)
        scale = default.copy()
        scale[good] = np.minimum(1.0 / np.sqrt(diagonal[good]), 1.0)
        return scale

    def _check_assertions(self, candidates: list[np.ndarray]) -> None:
        """Raise :class:`ConstraintError` when no candidate satisfies every assertion."""
        satisfied = np.zeros((len(candidates), len(self.assertions)), dtype=bool)
        for row, x in enumerate(candidates):
            with np.errstate(all="ignore"):
                values = self.values(x)
            satisfied[row] = [check(values) for _, check in self.assertions]
        if satisfied.all(axis=1).any():
            return
        counts = "; ".join(
            f"{text}: {int(satisfied[:, k].sum())}" for k, (text, _) in enumerate(self.assertions)
        )
        raise ConstraintError(
            f"no starting point satisfies all of the model's assertions: none of "
            f"{len(candidates)} points drawn around the priors' centres does (points satisfying "
            f"each assertion: {counts}). Check that the assertions can hold together within "
            "the priors' limits, or narrow the priors to the region where they hold."
        )

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Values of every free variable and deterministic at unconstrained ``x``."""
        from pymc.blocking import RaveledVars

        if self._values_fn is None:
            outs = self.model.unobserved_value_vars
            self._values_fn = self.model.compile_fn(
                outs, inputs=self.model.value_vars, point_fn=True
            )
            self._value_names = [v.name for v in outs]
        from pymc.blocking import DictToArrayBijection

        point = DictToArrayBijection.rmap(RaveledVars(x, self._start.point_map_info))
        outputs = self._values_fn(point)
        return dict(zip(self._value_names, (np.asarray(o) for o in outputs), strict=True))

    def free_values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Constrained values of the free random variables only (for ``initvals``)."""
        from pymc.blocking import DictToArrayBijection, RaveledVars

        point = DictToArrayBijection.rmap(RaveledVars(x, self._start.point_map_info))
        try:  # numpy inverse transforms: no compiled function needed
            out = {}
            for value in self.model.value_vars:
                rv = self.model.values_to_rvs[value]
                transform = self.model.rvs_to_transforms.get(rv)
                out[rv.name] = backward_values(transform, np.asarray(point[value.name]), rv)
            return out
        except NotImplementedError:
            names = {rv.name for rv in self.model.free_RVs}
            return {k: v for k, v in self.values(x).items() if k in names}

    def chain_starts(
        self, optimum: Optimum, chains: int, rng: np.random.Generator
    ) -> list[np.ndarray]:
        """One unconstrained start per chain: the optimum jittered by its curvature scale."""
        starts = []
        for _ in range(chains):
            for _attempt in range(20):
                x = optimum.x + rng.normal(0.0, optimum.scale)
                if np.isfinite(self.logp(x)):
                    break
            else:
                x = optimum.x.copy()
            starts.append(x)
        return starts


def cached_start_finder(
    compiled: Any,
    *,
    jacobian: bool,
    logp_grad: Callable[[np.ndarray], tuple[Any, np.ndarray]] | None = None,
) -> StartFinder:
    """The :class:`StartFinder` of a compiled graph, compiled once and kept in ``compiled.cache``.

    Its compiled function reads the model's data containers when it runs, so a model whose data
    or prior values are swapped with ``pm.set_data`` (see :mod:`graphfit.backend.structures`)
    reuses it, with the starts of the graph whose values it holds now (computed once per
    graph).
    """
    key = ("start_finder", bool(jacobian), logp_grad is not None)
    finder = compiled.cache.get(key)
    if finder is not None and logp_grad is not None and jacobian:
        # compiled for this fit (PyMC's step holds the graph's prior values as constants)
        finder.use_logp_grad(logp_grad)
    if finder is not None and finder.starts_for is compiled:
        return finder
    extra = [start] if (start := data_start(compiled.plan)) else []
    if finder is None:
        finder = StartFinder(
            compiled.model,
            jacobian=jacobian,
            medians=prior_medians(compiled.plan),
            gradient=not getattr(compiled, "black_box", []),
            assertions=compiled.assertion_checks(),
            logp_grad=logp_grad if jacobian else None,
            extra_starts=extra,
        )
        compiled.cache[key] = finder
    else:  # the same model with another graph's data and prior values: that graph's starts
        finder.set_starts(prior_medians(compiled.plan), extra)
    finder.starts_for = compiled
    return finder
