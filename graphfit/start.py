"""Starting points: where chains start and where the MAP optimiser lands.

NUTS needs chains to start where the model is well defined and the likelihood has a gradient.
Prior medians can sit on a singular point (``sigma = m*x + c`` is 0 at the medians of symmetric
priors) and a random start far from the data can leave a chain on a flat plateau.  So graphfit
draws random points in the unconstrained space around PyMC's initial point, keeps the ones with
the highest log density, polishes them with L-BFGS, and starts every chain from the best optimum
with a small jitter scaled by the optimiser's curvature estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from graphfit.exceptions import SearchError

if TYPE_CHECKING:
    import pymc as pm

__all__ = ["Optimum", "StartFinder"]


@dataclass
class Optimum:
    """Best point found: unconstrained vector, its log density and a scale per coordinate."""

    x: np.ndarray
    logp: float
    scale: np.ndarray


class StartFinder:
    """Compiled helpers for optimisation and for turning unconstrained points into values.

    Parameters
    ----------
    model
        The compiled ``pm.Model``.
    jacobian
        Include the log-Jacobian of the transforms (``True``: mode in the sampler's space, used
        for chain starts; ``False``: the true MAP in the parameters' space).
    """

    def __init__(self, model: pm.Model, *, jacobian: bool = True) -> None:
        from pymc.blocking import DictToArrayBijection

        self.model = model
        self.initial_point = model.initial_point()
        self._start = DictToArrayBijection.map(self.initial_point)
        self._logp = DictToArrayBijection.mapf(
            model.compile_logp(jacobian=jacobian), self.initial_point
        )
        self._dlogp = DictToArrayBijection.mapf(
            model.compile_dlogp(jacobian=jacobian), self.initial_point
        )
        self._values_fn: Any = None

    @property
    def x0(self) -> np.ndarray:
        """PyMC's initial point as an unconstrained vector."""
        return self._start.data.copy()

    def logp(self, x: np.ndarray) -> float:
        """Log density at unconstrained ``x`` (``-inf`` where undefined)."""
        from pymc.blocking import RaveledVars

        with np.errstate(all="ignore"):
            value = float(self._logp(RaveledVars(x, self._start.point_map_info)))
        return value if np.isfinite(value) else -np.inf

    def _cost(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        from pymc.blocking import RaveledVars

        point = RaveledVars(x, self._start.point_map_info)
        with np.errstate(all="ignore"):
            logp = float(self._logp(point))
            grad = np.asarray(self._dlogp(point), dtype=float)
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
        """Random restarts in unconstrained space, then L-BFGS from the best few.

        Raises
        ------
        SearchError
            When no random point has a finite log density.
        """
        from scipy.optimize import minimize

        x0 = self.x0
        candidates = [x0] + [x0 + rng.uniform(-spread, spread, x0.size) for _ in range(n_random)]
        scored = sorted(((self.logp(x), k) for k, x in enumerate(candidates)), key=lambda t: -t[0])
        finite = [(lp, k) for lp, k in scored if np.isfinite(lp)]
        if not finite:
            raise SearchError(
                f"no starting point with a finite log density was found among {len(candidates)} "
                "points drawn around the priors' centres; check that the model's prediction is "
                "finite for typical parameter values (e.g. no division by a parameter that can "
                "be 0)."
            )
        best: Optimum | None = None
        for _, k in finite[:n_optimise]:
            result = minimize(
                self._cost, candidates[k], jac=True, method="L-BFGS-B", options={"maxiter": 2000}
            )
            logp = self.logp(result.x)
            if best is None or logp > best.logp:
                try:
                    hess_inv = np.diag(result.hess_inv.todense())
                except AttributeError:
                    hess_inv = np.full(x0.size, 1e-4)
                scale = np.sqrt(np.clip(hess_inv, 1e-12, 1.0))
                best = Optimum(x=result.x, logp=logp, scale=scale)
        assert best is not None
        return best

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
