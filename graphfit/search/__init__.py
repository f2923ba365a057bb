"""Searches: ways to fit a compiled model (sampling, optimisation, evidence)."""

from graphfit.search.base import Search
from graphfit.search.dynesty import DynestyStatic
from graphfit.search.emcee import Emcee
from graphfit.search.emcee_settings import (
    AutoCorrelationsSettings,
    InitializerBall,
    InitializerPrior,
)
from graphfit.search.map import MAP
from graphfit.search.nuts import NUTS
from graphfit.search.smc import SMC

__all__ = [
    "MAP",
    "NUTS",
    "SMC",
    "AutoCorrelationsSettings",
    "DynestyStatic",
    "Emcee",
    "InitializerBall",
    "InitializerPrior",
    "Search",
]
