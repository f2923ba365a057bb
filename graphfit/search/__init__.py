"""Searches: ways to fit a compiled model (sampling and optimisation)."""

from graphfit.search.base import Search
from graphfit.search.map import MAP
from graphfit.search.nuts import NUTS

__all__ = ["MAP", "NUTS", "Search"]
