"""Decisions made once per factor graph before anything is compiled: the joint model's variable
names, which datasets are batched into one node, and how each population is parametrised. Python and
numpy/SciPy only."""

from graphfit.plan import fingerprint, html, info, naming, population
from graphfit.spec.services import provide

__all__: list[str] = []

provide("plan_graph", naming.plan_graph)
provide("model_info", info.model_info)
provide("graph_info", info.graph_info)
provide("model_html", html.model_html)
provide("graph_html", html.graph_html)
provide("graph_fingerprint", fingerprint.graph_fingerprint)
provide("measure_grid", population.measure_grid)
provide("measure_data_strength", population.measure_data_strength)
provide("start_values", population.start_values)
