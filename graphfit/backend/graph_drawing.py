"""Drawing the compiled model with Graphviz: ``FactorGraphModel.graphviz()``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from graphfit.backend.compile import compile_graph

if TYPE_CHECKING:
    from graphfit.spec.factor_graph import FactorGraphModel

__all__ = ["model_graph"]


@cache
def _model_graph_class() -> type:
    import graphviz  # an optional extra

    class DotNotFoundError(graphviz.ExecutableNotFound):
        """Graphviz's ``dot`` program is not installed (a ``graphviz.ExecutableNotFound``)."""

        def __init__(self, message: str) -> None:
            RuntimeError.__init__(self, message)

    class ModelGraph(graphviz.Digraph):
        """``graphviz.Digraph`` of a compiled model; rendering says how to get ``dot``."""

        NotFound = DotNotFoundError

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise DotNotFoundError(_DOT_MESSAGE) from error

        def render(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as error:
                raise DotNotFoundError(_DOT_MESSAGE) from error

    return ModelGraph


_DOT_MESSAGE = (
    "rendering the model graph needs Graphviz's `dot` program, which is not on PATH. Install "
    "Graphviz (apt-get install graphviz, conda install -c conda-forge graphviz or brew install "
    "graphviz); without it the graph's DOT text is available as factor_graph.graphviz().source."
)


def model_graph(graph: FactorGraphModel, vectorize: bool | None = None, **kwargs: Any) -> Any:
    """``pm.model_to_graphviz`` of the graph's compiled model (see
    :meth:`graphfit.FactorGraphModel.graphviz`)."""
    try:
        import graphviz  # noqa: F401
    except ImportError:
        raise ImportError(
            "FactorGraphModel.graphviz() needs the graphviz Python package: "
            "pip install 'graphfit[graphviz]' (rendering also needs Graphviz's `dot` program)."
        ) from None
    import pymc as pm  # import time: `import graphfit` loads numpy only

    graph.compile(vectorize)  # the populations' "auto" choices, measured as for a fit
    vectorize = graph.vectorize if vectorize is None else bool(vectorize)
    # drawn from a model built for this graph alone: the model fits share holds the data and
    # the priors' arguments in containers, which a model written by hand does not have
    model = compile_graph(graph, vectorize=vectorize).model
    digraph = pm.model_to_graphviz(model, **kwargs)
    digraph.__class__ = _model_graph_class()
    return digraph
