"""The model specification: priors, relations, assertions, models, analyses, observations, factor
graphs and populations. Plain Python and numpy; nothing here builds or holds a compiled model."""

__all__: list[str] = []
