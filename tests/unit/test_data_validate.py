"""Every validation rule: bad input in, the specific error out (column, rule, count, ids, fix)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data import RoleSpec, simulate, synthetic_spec, validate
from workbench.exceptions import (
    DataQualityWarning,
    DataValidationError,
    RowsExcludedWarning,
    SpecError,
)


@pytest.fixture(scope="module")
def base_frame():
    frame, _ = simulate(400, seed=5)
    return frame


@pytest.fixture()
def frame(base_frame):
    return base_frame.copy()


@pytest.fixture(scope="module")
def spec():
    return synthetic_spec()


def test_valid_frame_passes_and_types_are_canonical(frame, spec):
    ds = validate(frame, spec)
    assert ds.n == 400 and ds.exclusions == []
    assert ds.frame["churned"].dtype.kind == "i"
    assert ds.frame["tenure"].dtype == float
    assert list(ds.frame["contract"].cat.categories) == ["month_to_month", "one_year", "two_year"]
    assert pd.api.types.is_datetime64_any_dtype(ds.frame["start_date"])
    assert ds.events == int(frame["churned"].sum())


def test_fingerprint_tracks_content_and_spec(frame, spec):
    a = validate(frame, spec).fingerprint
    assert a == validate(frame.copy(), spec).fingerprint
    changed = frame.copy()
    changed.loc[0, "tenure"] += 1.0
    assert validate(changed, spec).fingerprint != a
    spec2 = RoleSpec.from_dict({**spec.to_dict(), "covariates": ["age"]})
    assert validate(frame, spec2).fingerprint != a


def test_missing_required_column_names_it_and_suggests_closest(frame, spec):
    with pytest.raises(DataValidationError, match=r"'tenure' \(closest column: 'tenure_x'\)"):
        validate(frame.rename(columns={"tenure": "tenure_x"}), spec)


def test_duplicate_ids(frame, spec):
    frame.loc[3, "customer_id"] = frame.loc[2, "customer_id"]
    with pytest.raises(
        DataValidationError,
        match=r"'customer_id' fails rule 'ids unique': 2 row\(s\).*first rows: 3, 4",
    ) as e:
        validate(frame, spec)
    assert e.value.n_rows == 2 and e.value.rule == "ids unique"


def test_missing_ids(frame, spec):
    frame["customer_id"] = frame["customer_id"].astype(object)
    frame.loc[5, "customer_id"] = None
    with pytest.raises(DataValidationError, match=r"rule 'ids present': 1 row"):
        validate(frame, spec)


def test_tenure_not_numeric(frame, spec):
    frame["tenure"] = frame["tenure"].astype(object)
    frame.loc[7, "tenure"] = "three"
    with pytest.raises(
        DataValidationError, match=r"'tenure' fails rule 'tenure numeric'.*'three'.*first rows: 8"
    ):
        validate(frame, spec)


def test_tenure_negative(frame, spec):
    frame.loc[[1, 4], "tenure"] = -2.0
    with pytest.raises(
        DataValidationError,
        match=r"rule 'tenure not negative': 2 row\(s\).*first rows: 2, 5.*start and end dates",
    ):
        validate(frame, spec)


def test_tenure_infinite(frame, spec):
    frame.loc[0, "tenure"] = np.inf
    with pytest.raises(DataValidationError, match=r"rule 'tenure finite'"):
        validate(frame, spec)


def test_tenure_missing(frame, spec):
    frame.loc[0, "tenure"] = np.nan
    with pytest.raises(DataValidationError, match=r"rule 'tenure present'"):
        validate(frame, spec)


def test_zero_tenure_refused_by_default_with_policy_hint(frame, spec):
    frame.loc[9, "tenure"] = 0.0
    with pytest.raises(
        DataValidationError,
        match=r"rule 'tenure positive'.*zero_tenure: keep.*zero_tenure: exclude",
    ):
        validate(frame, spec)


def test_zero_tenure_exclude_policy_counts_and_reports(frame, spec):
    frame.loc[[9, 10], "tenure"] = 0.0
    spec_x = RoleSpec.from_dict({**spec.to_dict(), "zero_tenure": "exclude"})
    with pytest.warns(RowsExcludedWarning, match="2 customers excluded: tenure 0"):
        ds = validate(frame, spec_x)
    assert ds.n == 398 and ds.n_received == 400
    assert ds.exclusions[0]["n_rows"] == 2
    assert ds.exclusions[0]["examples"] == ["SYN-0000010", "SYN-0000011"]


def test_zero_tenure_keep_policy_warns(frame, spec):
    frame.loc[9, "tenure"] = 0.0
    spec_k = RoleSpec.from_dict({**spec.to_dict(), "zero_tenure": "keep"})
    with pytest.warns(DataQualityWarning, match="1 customers have tenure 0 and are kept"):
        ds = validate(frame, spec_k)
    assert ds.n == 400


@pytest.mark.parametrize("bad", [2, -1, 0.5])
def test_event_must_be_binary(frame, spec, bad):
    frame["churned"] = frame["churned"].astype(float)
    frame.loc[0, "churned"] = bad
    with pytest.raises(
        DataValidationError, match=r"'churned' fails rule 'event is 0/1'.*Code churned as 1"
    ):
        validate(frame, spec)


def test_event_yes_no_and_bool_accepted(frame, spec):
    yn = frame.copy()
    yn["churned"] = np.where(frame["churned"] == 1, "Yes", "No")
    assert validate(yn, spec).frame["churned"].tolist() == frame["churned"].tolist()
    b = frame.copy()
    b["churned"] = frame["churned"].astype(bool)
    assert validate(b, spec).frame["churned"].sum() == frame["churned"].sum()


def test_event_text_not_yes_no(frame, spec):
    frame["churned"] = frame["churned"].map({1: "gone", 0: "active"})
    with pytest.raises(
        DataValidationError, match=r"are not 0/1 or yes/no \(values seen: \['active', 'gone'\]\)"
    ):
        validate(frame, spec)


def test_churn_type_required_for_churned(frame, spec):
    i = frame.index[frame["churned"] == 1][0]
    frame.loc[i, "churn_type"] = None
    with pytest.raises(
        DataValidationError,
        match=r"rule 'churn type given for churned'.*churn_type_policy: optional",
    ):
        validate(frame, spec)
    spec_o = RoleSpec.from_dict({**spec.to_dict(), "churn_type_policy": "optional"})
    assert validate(frame, spec_o).n == 400


def test_churn_type_only_for_churned(frame, spec):
    i = frame.index[frame["churned"] == 0][0]
    frame.loc[i, "churn_type"] = "price"
    with pytest.raises(DataValidationError, match=r"rule 'churn type only for churned'"):
        validate(frame, spec)


def test_satisfaction_outside_scale(frame, spec):
    frame.loc[[0, 1, 2], "satisfaction"] = 7
    with pytest.raises(
        DataValidationError,
        match=r"'satisfaction' fails rule 'satisfaction within scale': 3 row\(s\) lie outside the declared scale \[1, 5\]",
    ):
        validate(frame, spec)


def test_satisfaction_not_numeric(frame, spec):
    frame["satisfaction"] = frame["satisfaction"].astype(object)
    frame.loc[0, "satisfaction"] = "happy"
    with pytest.raises(DataValidationError, match=r"rule 'satisfaction numeric'.*'happy'"):
        validate(frame, spec)


def test_treatment_needs_two_arms(frame, spec):
    frame["loyalty_programme"] = "none"
    with pytest.raises(
        DataValidationError,
        match=r"'loyalty_programme' fails rule 'treatment has two arms': found 1 arm",
    ):
        validate(frame, spec)


def test_control_arm_must_exist(frame, spec):
    d = spec.to_dict()
    d["treatments"][1]["control"] = "nobody"
    d["treatments"][1]["arms"] = None
    with pytest.raises(
        DataValidationError,
        match=r"rule 'control arm exists': control arm 'nobody' does not occur; arms found: \['member', 'none'\]",
    ):
        validate(frame, RoleSpec.from_dict(d))


def test_undeclared_treatment_arm(frame, spec):
    frame.loc[0, "loyalty_programme"] = "gold"
    with pytest.raises(DataValidationError, match=r"rule 'treatment arms declared'.*\['gold'\]"):
        validate(frame, spec)


def test_undeclared_categorical_level(frame, spec):
    frame["contract"] = frame["contract"].astype(object)
    frame.loc[0, "contract"] = "lifetime"
    with pytest.raises(
        DataValidationError,
        match=r"'contract' fails rule 'categorical levels declared'.*\['lifetime'\]",
    ):
        validate(frame, spec)


def test_declared_level_absent(frame, spec):
    frame["segment"] = frame["segment"].astype(object).replace({"enterprise": "consumer"})
    with pytest.raises(
        DataValidationError,
        match=r"'segment' fails rule 'declared levels exist': level\(s\) \['enterprise'\]",
    ):
        validate(frame, spec)


def test_start_date_must_parse(frame, spec):
    frame["start_date"] = frame["start_date"].astype(str)
    frame.loc[0, "start_date"] = "yesterday"
    with pytest.raises(DataValidationError, match=r"rule 'start date parses'.*'yesterday'"):
        validate(frame, spec)


def test_missing_covariate_refused_then_excluded_by_policy(frame, spec):
    frame["age"] = frame["age"].astype(float)
    frame.loc[[3, 8, 9], "age"] = np.nan
    with pytest.raises(
        DataValidationError,
        match=r"'age' fails rule 'covariate present': 3 row\(s\).*missing_covariates: exclude",
    ):
        validate(frame, spec)
    spec_x = RoleSpec.from_dict({**spec.to_dict(), "missing_covariates": "exclude"})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ds = validate(frame, spec_x)
    assert any(
        issubclass(x.category, RowsExcludedWarning) and "3 customers excluded" in str(x.message)
        for x in w
    )
    assert ds.n == 397 and ds.exclusions[0]["per_column"] == {"age": 3}
    assert "SYN-0000004" in ds.exclusions[0]["examples"]
    assert "rows excluded" in ds.describe()["item"].tolist()


def test_empty_frame_and_wrong_type(spec):
    with pytest.raises(DataValidationError, match="no rows"):
        validate(pd.DataFrame({"a": []}), spec)
    with pytest.raises(DataValidationError, match="needs a pandas DataFrame, got list"):
        validate([1, 2], spec)


def test_spec_errors_name_key_and_suggest():
    with pytest.raises(
        SpecError, match=r"unknown spec key\(s\): 'tenur' \(did you mean 'tenure'\?\)"
    ):
        RoleSpec.from_dict({"id": "a", "tenur": "t", "event": "e"})
    with pytest.raises(
        SpecError,
        match=r"`tenure_unit` must be one of \('days', 'weeks', 'months', 'years'\), got 'decades'",
    ):
        RoleSpec(id="a", tenure="t", event="e", tenure_unit="decades")
    with pytest.raises(SpecError, match=r"role `event` must name a column"):
        RoleSpec(id="a", tenure="t", event="")
    with pytest.raises(SpecError, match=r"`satisfaction_scale` must be \[low, high\]"):
        RoleSpec(id="a", tenure="t", event="e", satisfaction_scale=[5, 1])
    with pytest.raises(SpecError, match=r"`assignment` must be one of"):
        RoleSpec.from_dict(
            {
                "id": "a",
                "tenure": "t",
                "event": "e",
                "treatments": [{"column": "x", "control": 0, "assignment": "random"}],
            }
        )
    with pytest.raises(SpecError, match=r"needs `column` and `control`"):
        RoleSpec.from_dict(
            {"id": "a", "tenure": "t", "event": "e", "treatments": [{"column": "x"}]}
        )


def test_spec_yaml_errors(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        RoleSpec.from_yaml(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        RoleSpec.from_yaml(bad)


def test_treatment_lookup(spec):
    assert spec.treatment("loyalty_programme").assignment == "observational"
    assert spec.treatment().column == "retention_offer"
    with pytest.raises(
        SpecError,
        match=r"no treatment column 'offer'; declared: \['retention_offer', 'loyalty_programme'\]",
    ):
        spec.treatment("offer")
