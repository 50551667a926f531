"""Plausibility in validation: tenure units, durations, implausible values, coarse grids, counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data import RoleSpec, validate
from workbench.data.units import convert_tenure, detect_grid, tenure_label, unit_factor
from workbench.exceptions import (
    CoarseTenureWarning,
    DataQualityWarning,
    DataValidationError,
    ParameterError,
    SpecError,
)


def _frame(n=400, seed=0, tenure=None):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"K{i:05d}" for i in range(n)],
            "tenure": rng.uniform(0.5, 60, n).round(3) if tenure is None else tenure,
            "churned": rng.integers(0, 2, n),
        }
    )


def _spec(**kw):
    return RoleSpec(id="customer_id", tenure="tenure", event="churned", **kw)


def test_unit_conversions():
    assert unit_factor("years", "months") == 12.0
    assert convert_tenure(730.5, "days", "years") == pytest.approx(2.0, abs=1e-12)
    assert convert_tenure([1, 2], "weeks", "days") == [7.0, 14.0]
    assert tenure_label(1, "years") == "1.00 year"
    assert tenure_label(14.25, "months") == "14.2 months"
    with pytest.raises(ParameterError, match=r"`from_unit` must be one of .*'years'"):
        unit_factor("fortnights", "days")


def test_years_unit_accepted_and_kept_for_estimation():
    f = _frame(tenure=np.random.default_rng(1).uniform(0.1, 8, 400))
    ds = validate(f, _spec(tenure_unit="years"))
    assert ds.spec.tenure_unit == "years"
    np.testing.assert_array_equal(ds.frame["tenure"], f["tenure"])


def test_timedelta_tenure_converted_by_declared_unit():
    days = np.random.default_rng(2).integers(1, 2000, 400)
    f = _frame(tenure=pd.to_timedelta(days, unit="D"))
    with pytest.warns(DataQualityWarning, match=r"durations \(timedelta\); converted to months"):
        ds = validate(f, _spec(tenure_unit="months"))
    np.testing.assert_allclose(ds.frame["tenure"], days / 30.4375, rtol=1e-12)
    assert ds.frame["tenure"].median() < 100  # not 1e16 nanoseconds


def test_days_labelled_as_months_refused_with_the_fitting_unit():
    f = _frame(tenure=np.random.default_rng(3).integers(30, 2200, 400).astype(float))
    with pytest.raises(
        DataValidationError,
        match=r"'tenure' fails rule 'tenure plausible for unit'.*above 100 years.*`tenure_unit: days`",
    ):
        validate(f, _spec(tenure_unit="months"))


def test_placeholder_tenure_1e30_refused():
    f = _frame()
    f.loc[7, "tenure"] = 1e30
    with pytest.raises(
        DataValidationError, match=r"1 row\(s\) have tenure above 100 years.*first rows: 8"
    ):
        validate(f, _spec())


def test_start_plus_tenure_beyond_analysis_date():
    f = _frame(n=300)
    f["start"] = pd.Timestamp("2024-01-01")
    f["tenure"] = 30.0  # 30 months after 2024-01-01 is mid 2026
    with pytest.raises(
        DataValidationError,
        match=r"start date \('start'\) plus tenure passes the analysis date 2025-01-01",
    ):
        validate(f, _spec(start_date="start", analysis_date="2025-01-01"))
    f["tenure"] = 12.0  # exactly reaches it: fine
    validate(f, _spec(start_date="start", analysis_date="2025-01-01"))


def test_coarse_tenure_detected_with_grid_on_the_dataset():
    rng = np.random.default_rng(4)
    f = _frame(n=2000, tenure=12.0 * rng.integers(0, 9, 2000))
    with pytest.warns(CoarseTenureWarning, match=r"9 distinct values, all whole years") as rec:
        ds = validate(f, _spec(zero_tenure="keep"))
    assert ds.coarse_tenure and ds.tenure_grid["step"] == 12.0
    w = next(r.message for r in rec if isinstance(r.message, CoarseTenureWarning))
    assert w.grid["values"][:3] == [0.0, 12.0, 24.0]


def test_fine_and_whole_month_tenure_not_coarse():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoarseTenureWarning)
        assert validate(_frame(), _spec()).tenure_grid is None
        whole_months = _frame(n=3000, tenure=np.random.default_rng(5).integers(1, 73, 3000))
        assert validate(whole_months, _spec()).tenure_grid is None
    assert detect_grid([0, 7, 14, 21] * 50, "days")["step_name"] == "whole weeks"


def test_referral_text_and_negative_counts_refused():
    f = _frame()
    f["n_referrals"] = ["two"] + [0] * (len(f) - 1)
    with pytest.raises(
        DataValidationError, match=r"'n_referrals' fails rule 'count or flag'.*'two'"
    ):
        validate(f, _spec())
    f["n_referrals"] = [-1] + [0] * (len(f) - 1)
    with pytest.raises(
        DataValidationError, match=r"'n_referrals' fails rule 'count or flag'.*negative"
    ):
        validate(f, _spec())
    f["n_referrals"] = ["yes", "no"] * (len(f) // 2)
    assert validate(f, _spec()).frame["n_referrals"].sum() == len(f) // 2
    f["ref"] = [1.5] + [0] * (len(f) - 1)
    with pytest.raises(DataValidationError, match=r"'ref' fails rule 'count or flag'.*not whole"):
        validate(f, _spec(referrals="ref"))


def test_zero_rows_after_exclusions_is_an_error():
    f = _frame(n=20)
    f["tenure"] = 0.0
    with pytest.raises(
        DataValidationError, match=r"no customers are left after exclusions: all 20"
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            validate(f, _spec(zero_tenure="exclude"))


def test_spec_keys_personal_currency_encoding():
    s = RoleSpec.from_dict(
        {"id": "a", "tenure": "t", "event": "e", "personal": "surname", "currency": "EUR"}
    )
    assert s.personal == ["surname"] and s.currency == "EUR"
    with pytest.raises(SpecError, match=r"`currency` must be a three-letter ISO code.*'euros'"):
        RoleSpec(id="a", tenure="t", event="e", currency="euros")
    with pytest.raises(SpecError, match=r"`encoding: klingon` is not an encoding"):
        RoleSpec(id="a", tenure="t", event="e", encoding="klingon")
    with pytest.raises(SpecError, match=r"`personal` must be a list of column names, got 5"):
        RoleSpec(id="a", tenure="t", event="e", personal=5)
    with pytest.raises(
        SpecError, match=r"`categorical` must map each column to its list of levels"
    ):
        RoleSpec(id="a", tenure="t", event="e", categorical={"c": "abc"})
    with pytest.raises(SpecError, match=r"role `segment` must name one column, got \['a', 'b'\]"):
        RoleSpec(id="a", tenure="t", event="e", segment=["a", "b"])


def test_validation_messages_carry_rows_not_ids():
    f = _frame()
    f.loc[3, "tenure"] = -1.0
    with pytest.raises(DataValidationError) as e:
        validate(f, _spec())
    assert "K00003" not in str(e.value) and "first rows: 4" in str(e.value)
    assert e.value.examples == ["K00003"]  # kept for programs, never printed


def test_parquet_duration_tenure_read_by_the_declared_unit(tmp_path):
    """A Parquet ``duration`` column (pyarrow) comes back as timedelta and is converted by the
    spec's unit, not read as nanoseconds (the issue's '83,126,995,199,999,984 months')."""
    from workbench.data import read_table

    days = np.random.default_rng(6).integers(1, 2500, 400)
    _frame(tenure=pd.to_timedelta(days, unit="D")).to_parquet(tmp_path / "d.parquet")
    with pytest.warns(DataQualityWarning, match="converted to weeks"):
        ds = validate(read_table(tmp_path / "d.parquet"), _spec(tenure_unit="weeks"))
    np.testing.assert_allclose(ds.frame["tenure"], days / 7.0, rtol=1e-12)
