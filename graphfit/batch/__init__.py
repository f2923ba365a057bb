"""Many independent fits: ``fit_each``, its executors and the warnings collected from workers."""

__all__: list[str] = []
