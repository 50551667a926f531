"""The one resolver (``workbench.columns``): every message pinned, every mistake its own class.

Each class also subclasses the broader class the same mistake raised before (DataValidationError
or ParameterError), so older ``except`` clauses keep working; the last tests pin that.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.exceptions import (
    AlphaError,
    ColumnListError,
    ColumnNotFoundError,
    ColumnTypeError,
    DataValidationError,
    EntryAfterExitError,
    EventCodingError,
    MissingColumnArgumentError,
    MissingValueError,
    NegativeValueError,
    NonFiniteValueError,
    ParameterError,
    ReferenceLevelError,
    RowsExcludedWarning,
)


@pytest.fixture
def df():
    return pd.DataFrame(
        {
            "tenure": [3.0, 0.0, 12.0, 7.0],
            "churned": [1, 0, 1, 0],
            "contract": ["two_year", "month", "one_year", "month"],
            "age": [30.0, 41.0, np.nan, 25.0],
        }
    )


def _m(text: str) -> str:
    return re.escape(text)


# -------------------------------------------------------------------------------- column names
def test_unknown_column_suggests_close_name(df):
    with pytest.raises(ColumnNotFoundError) as info:
        C.column_name(df, "tenur", argument="duration_col", func="kaplan_meier")
    assert str(info.value) == (
        "kaplan_meier: `duration_col`='tenur' is not a column of the data. Did you mean 'tenure'? "
        "Columns available: ['tenure', 'churned', 'contract', 'age']."
    )
    assert info.value.column == "tenur"


def test_unknown_column_without_close_name(df):
    with pytest.raises(
        ColumnNotFoundError, match=r"`group_col`='zzz' is not a column of the data\. Columns"
    ):
        C.column_name(df, "zzz", argument="group_col")


def test_unknown_column_in_a_list(df):
    with pytest.raises(
        ColumnNotFoundError,
        match=_m("`covariates`='contrat' is not a column of the data. Did you mean 'contract'?"),
    ):
        C.column_list(df, ["age", "contrat"], argument="covariates")


def test_string_where_list_expected(df):
    with pytest.raises(
        ColumnListError,
        match=_m(
            "`covariates` must be a list of column names, got the string 'age'; write covariates=['age']."
        ),
    ):
        C.column_list(df, "age", argument="covariates")


def test_non_string_names_in_list(df):
    with pytest.raises(
        ColumnListError, match=_m("`covariates` must hold column names (strings); got [3].")
    ):
        C.column_list(df, ["age", 3], argument="covariates")
    with pytest.raises(
        ColumnListError, match=_m("`covariates` must be a list of column names, got int 5.")
    ):
        C.column_list(df, 5, argument="covariates")


def test_list_where_one_name_expected(df):
    with pytest.raises(
        ColumnListError,
        match=_m("`duration_col` must be one column name (a string), got list ['tenure']."),
    ):
        C.column_name(df, ["tenure"], argument="duration_col")


def test_required_argument_missing(df):
    with pytest.raises(
        MissingColumnArgumentError,
        match=_m(
            "fit: `duration_col` is required: pass duration_col='<column name>' or set the spec's `tenure` role."
        ),
    ):
        C.column_name(df, None, argument="duration_col", role="tenure", func="fit")
    assert C.column_name(df, None, argument="group_col", required=False) is None


def test_column_list_dedupes_and_accepts_index(df):
    assert C.column_list(df, pd.Index(["age", "age", "contract"]), argument="covariates") == [
        "age",
        "contract",
    ]
    assert C.column_list(df, None, argument="covariates") == []


def test_data_must_be_frame_or_dataset():
    with pytest.raises(
        ParameterError,
        match=_m("`data` must be a workbench Dataset or a pandas DataFrame, got list."),
    ):
        C.resolve_frame([1, 2])


def test_dataset_roles_are_defaults(synthetic_small):
    spec = synthetic_small.spec
    assert (
        C.column_name(synthetic_small, None, argument="duration_col", role="tenure") == spec.tenure
    )
    r = C.resolve(synthetic_small)
    assert r.n == synthetic_small.n and r.events == synthetic_small.events
    assert r.fingerprint == synthetic_small.fingerprint


# -------------------------------------------------------------------------------- tenure
@pytest.mark.parametrize(
    ("values", "cls", "message"),
    [
        (
            ["3", "30 months", "?", "4"],
            ColumnTypeError,
            "`duration_col` column 'tenure': 2 of 4 row(s) are not numbers (tenure must be numeric; "
            "the column's dtype is object) (first row positions and values: 1 ('30 months'), 2 ('?')). "
            "Convert it first, e.g. pd.to_numeric(df['tenure'], errors='raise').",
        ),
        (
            ["3", "4"],
            ColumnTypeError,
            "`duration_col` column 'tenure': 2 of 2 row(s) hold numbers stored as text (dtype object) "
            "(first row positions and values: 0 ('3'), 1 ('4')). Convert the column first: "
            "df['tenure'] = pd.to_numeric(df['tenure']).",
        ),
        (
            [True, False],
            ColumnTypeError,
            "`duration_col` column 'tenure': 2 of 2 row(s) are booleans, not numbers (tenure must be "
            "numeric) (first row positions and values: 0 (True), 1 (False)).",
        ),
        (
            [1.0, np.nan, 2.0],
            MissingValueError,
            "`duration_col` column 'tenure': 1 of 3 row(s) have no tenure (first row positions and "
            "values: 1 (nan)). Every customer needs a tenure",
        ),
        (
            [1.0, np.inf, 2.0, -np.inf],
            NonFiniteValueError,
            "`duration_col` column 'tenure': 2 of 4 row(s) have an infinite tenure (first row positions "
            "and values: 1 (inf), 3 (-inf)). Replace infinite values by the observed follow-up",
        ),
        (
            [1.0, -2.0, 0.0],
            NegativeValueError,
            "`duration_col` column 'tenure': 1 of 3 row(s) have a negative tenure (first row positions "
            "and values: 1 (-2.0)). Tenure cannot be negative; check these customers' start and end dates.",
        ),
    ],
)
def test_tenure_refused(values, cls, message):
    frame = pd.DataFrame({"tenure": values})
    with pytest.raises(cls, match=_m(message)) as info:
        C.tenure_array(frame, "tenure")
    assert isinstance(info.value, DataValidationError)
    assert info.value.column == "tenure"


def test_tenure_object_floats_and_nullable_ints_accepted():
    assert C.tenure_array(
        pd.DataFrame({"t": pd.Series([1.0, 2.5], dtype=object)}), "t"
    ).tolist() == [1.0, 2.5]
    assert C.tenure_array(pd.DataFrame({"t": pd.array([1, 0], dtype="Int64")}), "t").tolist() == [
        1.0,
        0.0,
    ]
    with pytest.raises(MissingValueError):
        C.tenure_array(pd.DataFrame({"t": pd.array([1, None], dtype="Int64")}), "t")


def test_only_five_examples_shown():
    frame = pd.DataFrame({"t": -np.arange(1.0, 21.0)})
    with pytest.raises(
        NegativeValueError,
        match=_m(
            "20 of 20 row(s) have a negative tenure (first row positions and values: 0 (-1.0), 1 (-2.0), 2 (-3.0), 3 (-4.0), 4 (-5.0))."
        ),
    ):
        C.tenure_array(frame, "t")


# -------------------------------------------------------------------------------- event
def test_event_1_2_coding_hints_at_R():
    with pytest.raises(
        EventCodingError,
        match=_m(
            "look coded 1/2 as in R's Surv(time, status) convention (1 = censored, 2 = event); recode them: df['status'] = (df['status'] == 2).astype(int)."
        ),
    ):
        C.event_array(pd.DataFrame({"status": [1, 2, 1]}), "status")


def test_event_other_values():
    with pytest.raises(
        EventCodingError,
        match=_m(
            "`event_col` column 'e': 1 of 3 row(s) are not 0 or 1 (first row positions and values: 2 (5)). Code churned customers as 1 and still-active (censored) customers as 0."
        ),
    ):
        C.event_array(pd.DataFrame({"e": [0, 1, 5]}), "e")


def test_event_text_and_missing():
    with pytest.raises(
        EventCodingError, match=_m("are text (dtype object, values ['No', 'Yes']), not 0 or 1")
    ):
        C.event_array(pd.DataFrame({"e": ["Yes", "No"]}), "e")
    with pytest.raises(
        MissingValueError, match=_m("`event_col` column 'e': 1 of 2 row(s) have no event value")
    ):
        C.event_array(pd.DataFrame({"e": [1.0, np.nan]}), "e")


def test_event_boolean_and_01_accepted():
    assert C.event_array(pd.DataFrame({"e": [True, False]}), "e").tolist() == [1.0, 0.0]
    assert C.event_array(pd.DataFrame({"e": [0, 1, 1]}), "e").tolist() == [0.0, 1.0, 1.0]


# -------------------------------------------------------------------------------- entry, weights
def test_entry_after_exit():
    frame = pd.DataFrame({"a": [0.0, 5.0, 1.0]})
    with pytest.raises(
        EntryAfterExitError,
        match=_m(
            "`entry_col` column 'a': 1 of 3 row(s) enter after they leave (first row positions and values: 1 ('5 > exit 3')). Entry must be at or before exit"
        ),
    ):
        C.entry_array(frame, "a", np.array([2.0, 3.0, 1.0]))


def test_weights():
    with pytest.raises(
        NegativeValueError,
        match=_m("`weights_col` column 'w': 1 of 2 row(s) have a negative weight"),
    ):
        C.weights_array(pd.DataFrame({"w": [1.0, -1.0]}), "w")
    with pytest.raises(NegativeValueError, match=_m("have weight 0 (all of them)")):
        C.weights_array(pd.DataFrame({"w": [0.0, 0.0]}), "w")


# -------------------------------------------------------------------------------- resolve
def test_resolve_missing_covariates_refused_or_excluded(df):
    with pytest.raises(
        MissingValueError,
        match=_m(
            "`covariates` column 'age': 1 of 4 row(s) have missing values (first row positions and values: 2 (nan)). Fill them, or pass missing='exclude'"
        ),
    ):
        C.resolve(df, duration_col="tenure", event_col="churned", covariates=["age"])
    with pytest.warns(
        RowsExcludedWarning, match=_m("1 of 4 rows excluded for missing values (age: 1).")
    ):
        r = C.resolve(
            df, duration_col="tenure", event_col="churned", covariates=["age"], missing="exclude"
        )
    assert r.n == 3 and r.exclusions == [{"rule": "missing", "n_rows": 1, "columns": {"age": 1}}]
    assert r.duration.tolist() == [3.0, 0.0, 7.0]


def test_resolve_func_prefix_and_unit(df):
    with pytest.raises(
        ParameterError,
        match=_m(
            "f: `tenure_unit` must be one of ['days', 'weeks', 'months', 'years'], got 'fortnights'."
        ),
    ):
        C.resolve(
            df, duration_col="tenure", event_col="churned", tenure_unit="fortnights", func="f"
        )
    assert C.resolve(df, duration_col="tenure", event_col="churned").unit == "months"


def test_fingerprint_of_frame_depends_on_content(df):
    other = df.assign(tenure=df["tenure"] + 1)
    assert C.data_fingerprint(df) == C.data_fingerprint(df.copy())
    assert C.data_fingerprint(df) != C.data_fingerprint(other)


# -------------------------------------------------------------------------------- alpha
@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "x", None, True, float("nan")])
def test_check_alpha(bad):
    with pytest.raises(
        AlphaError,
        match=_m(f"`alpha` must be a number in (0, 1), e.g. 0.05 for 95% intervals; got {bad!r}."),
    ):
        C.check_alpha(bad)


def test_check_alpha_old_import_path():
    from workbench.checks import check_alpha

    assert check_alpha is C.check_alpha


# -------------------------------------------------------------------------------- reference levels
def test_reference_rule_like_R():
    # R: factor(c("two_year", "month", "one_year")) has levels sorted; the first is the reference
    s = pd.Series(["two_year", "month", "one_year"], name="contract")
    assert C.categorical_levels(s) == ["month", "one_year", "two_year"]
    cat = s.astype(pd.CategoricalDtype(["two_year", "one_year", "month"]))
    assert C.reference_level(cat) == "two_year"
    assert C.categorical_levels(s, reference="two_year") == ["two_year", "month", "one_year"]
    assert C.reference_level(pd.Series([True, False])) is False
    assert C.categorical_levels(pd.Series([3, 1, 2])) == [1, 2, 3]
    # unused categories are not levels of the data
    assert C.categorical_levels(pd.Series(["a"], dtype=pd.CategoricalDtype(["z", "a"]))) == ["a"]


def test_reference_level_unknown():
    s = pd.Series(["month", "one_year"], name="contract")
    with pytest.raises(
        ReferenceLevelError,
        match=_m(
            "`reference`='one_yr' is not a level of 'contract'. Did you mean 'one_year'? Levels: ['month', 'one_year']."
        ),
    ):
        C.categorical_levels(s, reference="one_yr")


def test_term_names_and_dummies():
    assert C.term_name("contract", "one_year") == "contract[one_year]"
    X, levels = C.dummies(pd.Series(["b", "a", None, "c"], name="plan"), reference="b")
    assert levels == ["b", "a", "c"]
    assert list(X.columns) == ["plan[a]", "plan[c]"]
    np.testing.assert_array_equal(X["plan[a]"].to_numpy(), [0.0, 1.0, np.nan, 0.0])


# -------------------------------------------------------------------------------- old except clauses
@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (ColumnNotFoundError, (DataValidationError, ParameterError)),
        (ColumnTypeError, (DataValidationError, TypeError)),
        (ColumnListError, (ParameterError, TypeError)),
        (MissingColumnArgumentError, (ParameterError,)),
        (EventCodingError, (DataValidationError,)),
        (AlphaError, (ParameterError,)),
        (ReferenceLevelError, (ParameterError,)),
    ],
)
def test_classes_keep_old_bases(cls, bases):
    for b in bases:
        assert issubclass(cls, b)
    assert issubclass(cls, ValueError)


# -------------------------------------------------------------------------------- grouping guard
def test_grouping_refuses_continuous_and_many_levels():
    from workbench.exceptions import TooManyLevelsError

    df = pd.DataFrame({"usage": np.linspace(0, 1, 50), "code": [f"c{i}" for i in range(50)]})
    with pytest.raises(
        TooManyLevelsError,
        match=_m(
            "`group_col`='usage' has 50 distinct values, more than max_levels=20; it looks continuous: bin it first"
        ),
    ):
        C.check_grouping(df, "usage")
    with pytest.raises(
        TooManyLevelsError,
        match=_m("'code' has 50 distinct values, more than max_levels=20; merge rare levels"),
    ) as info:
        C.check_grouping(df, "code")
    assert "c1" not in str(info.value)  # counts, never values
    assert C.check_grouping(df, "code", max_levels=60) == "code"


def test_grouping_refuses_personal_columns(synthetic_small):
    import dataclasses

    from workbench.data import Dataset

    spec = synthetic_small.spec
    with pytest.raises(ParameterError, match="is the customer id: grouping by it would print"):
        C.check_grouping(synthetic_small, spec.id)
    ds = Dataset(
        synthetic_small.frame.assign(surname="x"), dataclasses.replace(spec, personal=["surname"])
    )
    with pytest.raises(ParameterError, match="declared personal in the spec"):
        C.check_grouping(ds, "surname")
