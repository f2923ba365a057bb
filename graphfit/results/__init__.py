"""What a fit gives back: per-dataset result lists, diagnostics, comparison, evidence, plots and
interpolation."""

__all__: list[str] = []
