"""Notebook 02 (tenure survival) on the stranger data sets (issue 12), run with only dataset /
data_path / spec_path: no churn cause (the competing-risk section says which role enables it),
role-driven covariates, a continuous ``group_by`` refused before any fit, no personal value in the
run folder."""

from __future__ import annotations

import builders
import pytest
from _nbrun import execute
from papermill.exceptions import PapermillExecutionError


@pytest.mark.slow
def test_02_on_stranger_data(stranger, tmp_path):
    res = execute("02-tenure-survival.ipynb", tmp_path, builders.notebook_parameters(stranger))
    roles = res["analysis_roles"]
    spec = stranger.spec
    assert spec.get("satisfaction") in roles["covariates"]
    assert "cif" not in res and "fine_gray" not in res  # no cause column: skipped, said in one line
    assert res["cox"] and res["km"]
    assert builders.personal_values_in(tmp_path, stranger) == {}


@pytest.mark.slow
def test_02_refuses_a_continuous_group_by_before_fitting(stranger_simulator, tmp_path):
    params = {**builders.notebook_parameters(stranger_simulator), "group_by": "usage"}
    with pytest.raises(PapermillExecutionError, match=r"TooManyLevelsError.*usage.*bin it"):
        execute("02-tenure-survival.ipynb", tmp_path, params)
