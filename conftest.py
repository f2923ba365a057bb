"""pytest set-up for the doctests of ``graphfit/`` (the tests' own set-up is ``tests/conftest.py``).

Docstring examples that write files take their folders from ``tempfile.mkdtemp()``, as a user's
session would.  While a doctest runs, :mod:`tempfile` makes them inside the test's own
``tmp_path``, which pytest removes with its old runs, so the suite leaves no folders behind.
"""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture(autouse=True)
def _doctest_temporary_folders(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if isinstance(request.node, pytest.DoctestItem):
        folder = request.getfixturevalue("tmp_path")
        monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield
