"""Output folders: identifiers, saving, loading and the aggregator."""

__all__: list[str] = []
