"""The one layer that builds PyMC/PyTensor models: priors, likelihood nodes, the marginal grid, the
black-box Op, pointwise log-likelihoods, deferred log-likelihood arrays, posterior predictive."""

from graphfit.backend import cache, graph_drawing
from graphfit.spec.services import provide

__all__: list[str] = []

provide("compile_graph", cache.compiled_graph)
provide("own_model", cache.owned_graph)
provide("model_graph", graph_drawing.model_graph)
