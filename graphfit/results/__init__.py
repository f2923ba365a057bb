"""What a fit gives back: per-dataset result lists, samples, diagnostics, comparison, evidence,
plots and interpolation.

Importing it registers the model operations that read instances, ``take_attributes`` and
``as_model`` (:mod:`graphfit.results.chaining`), as services of the spec
(:mod:`graphfit.spec.services`), so that models and instances can offer them as methods.
"""

from graphfit.results import chaining
from graphfit.spec.services import provide

__all__: list[str] = []

provide("take_attributes", chaining.take_attributes)
provide("as_model", chaining.as_model)
