"""Fixtures shared by every test on the "stranger" data sets (see ``builders.py``).

``stranger_simulator`` / ``stranger_telco`` are session-scoped :class:`builders.StrangerData` with the
CSV and YAML spec already written (``data_path``, ``spec_path``); ``stranger`` is parametrised over
both. Notebook tests run a notebook with ``builders.notebook_parameters(sd)`` only and grep the run
folder with ``builders.personal_values_in(folder, sd)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for p in (HERE, HERE.parent / "notebooks"):  # builders, and the notebooks' papermill helper _nbrun
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import builders  # noqa: E402


@pytest.fixture(scope="session")
def stranger_simulator(tmp_path_factory):
    return builders.write(builders.build("simulator"), tmp_path_factory.mktemp("stranger_sim"))


@pytest.fixture(scope="session")
def stranger_telco(tmp_path_factory, telco_dir):
    return builders.write(
        builders.build("telco", telco_dir=telco_dir), tmp_path_factory.mktemp("stranger_telco")
    )


@pytest.fixture(params=builders.SOURCES)
def stranger(request):
    """Each stranger data set in turn."""
    return request.getfixturevalue(f"stranger_{request.param}")
