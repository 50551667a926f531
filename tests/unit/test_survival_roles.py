"""Notebook 02's role defaults: group and covariates from the spec, guards before any fit, and the
sentence that replaces the competing-risk section when the data have no churn cause."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.data import load_dataset
from workbench.exceptions import ParameterError, TooManyLevelsError
from workbench.survival.roles import competing_skip_reason, default_covariates, default_group


@pytest.fixture(scope="module")
def ds():
    return load_dataset("synthetic", n_customers=800, seed=2)


def test_defaults_come_from_the_roles(ds):
    assert default_group(ds) == ds.spec.segment
    cov = default_covariates(ds)
    assert cov[: len(ds.spec.covariates)] == list(ds.spec.covariates)
    assert ds.spec.satisfaction in cov and set(ds.spec.switching_costs) <= set(cov)
    assert "segment" not in default_covariates(ds, exclude=["segment"])
    assert default_covariates(ds, ["age"]) == ["age"]


def test_continuous_or_many_level_group_is_refused_with_count(ds):
    with pytest.raises(
        TooManyLevelsError, match=r"`group_by`='monthly_charge' has [\d,]+ distinct.*bin it"
    ):
        default_group(ds, "monthly_charge")
    frame = ds.frame.assign(plan=np.arange(len(ds.frame)) % 25)
    ds25 = dataclasses.replace(ds, frame=frame)
    with pytest.raises(
        TooManyLevelsError, match="25 distinct values, more than max_groups=20.*raise `max_groups`"
    ):
        default_group(ds25, "plan")
    assert default_group(ds25, "plan", max_groups=30) == "plan"


def test_no_cause_role_skips_competing_risks_with_one_sentence(ds):
    assert competing_skip_reason(ds) is None
    no_cause = dataclasses.replace(ds, spec=dataclasses.replace(ds.spec, churn_type=None))
    msg = competing_skip_reason(no_cause)
    assert msg.count(".") == 1 and "`churn_type`" in msg


def test_a_dataframe_needs_explicit_columns(ds):
    with pytest.raises(ParameterError, match="pass the columns explicitly"):
        default_group(ds.frame)
