"""Fixtures of the runner tests: the trivial fixture notebooks and a tmp reports root."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


@pytest.fixture
def nbdir() -> Path:
    return NOTEBOOKS


@pytest.fixture
def reports(tmp_path, monkeypatch) -> Path:
    """A tmp reports root; WORKBENCH_REPORTS points there so nothing lands in the repo."""
    out = tmp_path / "reports"
    out.mkdir()
    monkeypatch.setenv("WORKBENCH_REPORTS", str(out))
    return out
