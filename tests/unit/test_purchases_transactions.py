"""Transaction logs -> customer summary: the rules, the same-day merge, the split, each bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data.cdnow import CALIBRATION_END, OBSERVATION_END, cdnow_dir, load_cdnow
from workbench.exceptions import DataValidationError, ParameterError, RowsExcludedWarning, SpecError
from workbench.purchases import TransactionSpec, load_transactions, rfm_summary

SPEC = dict(customer="id", timestamp="day", amount="value", quantity="items")


def _log(rows, **spec):
    df = pd.DataFrame(rows, columns=["id", "day", "value", "items"])
    return load_transactions(df, TransactionSpec(**{**SPEC, **spec}))


def test_summary_by_hand_with_same_day_merge_and_holdout():
    log = _log(
        [
            ("a", "2024-01-01", 10.0, 1),
            ("a", "2024-01-01", 5.0, 1),  # same day: merged into one occasion of 15
            ("a", "2024-01-15", 20.0, 2),
            ("a", "2024-01-29", 30.0, 1),
            ("a", "2024-02-12", 7.0, 1),  # holdout
            ("b", "2024-01-08", 9.0, 1),
        ],
        time_unit="weeks",
    )
    s = rfm_summary(log, calibration_end="2024-01-29", observation_end="2024-02-26")
    c = s.customers.set_index("customer_id")
    assert c.loc["a", ["frequency", "recency", "T"]].tolist() == [2.0, 4.0, 4.0]
    assert c.loc["a", "monetary_value"] == pytest.approx(
        25.0
    )  # mean of the repeat occasions 20, 30
    assert c.loc["a", "first_amount"] == pytest.approx(15.0)
    assert c.loc["a", ["frequency_holdout", "monetary_holdout"]].tolist() == [1.0, 7.0]
    assert c.loc["b", ["frequency", "recency", "T"]].tolist() == [0.0, 0.0, 3.0]
    assert np.isnan(c.loc["b", "monetary_value"])
    assert s.meta["holdout_length"] == pytest.approx(4.0)
    assert "calendar day" in s.meta["same_day_rule"]
    # the same log in days: every time is 7 times larger
    d = rfm_summary(
        log, calibration_end="2024-01-29", observation_end="2024-02-26", time_unit="days"
    )
    assert d.customers["T"].tolist() == [28.0, 21.0]
    # keep rule: the two same-day rows stay two occasions
    k = _log([("a", "2024-01-01", 10.0, 1), ("a", "2024-01-01", 5.0, 1)], same_day="keep")
    assert rfm_summary(k, calibration_end="2024-01-10", observation_end="2024-01-20").customers[
        "frequency"
    ].tolist() == [1.0]


def test_cdnow_summary_matches_the_published_counts():
    """2,357 customers, 946 repeat buyers making 2,457 repeat purchases in the 39 calibration weeks
    (Fader, Hardie & Lee 2005); T of a 1997-01-01 buyer is 272 / 7 = 38.857 weeks."""
    s = rfm_summary(load_cdnow(), calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END)
    c = s.customers
    assert len(c) == 2357
    assert int((c["frequency"] > 0).sum()) == 946
    assert int(c["frequency"].sum()) == 2457
    assert c["T"].max() == pytest.approx(272 / 7)
    assert s.meta["holdout_length"] == pytest.approx(39.0)
    assert int(s.tables["tracking"]["repeat_purchases"].sum()) == 2457 + int(
        c["frequency_holdout"].sum()
    )


def test_cdnow_master_through_parquet_and_duckdb(tmp_path):
    raw = pd.read_csv(
        cdnow_dir() / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["m", "id", "date", "q", "v"],
        dtype={"date": str},
    )
    path = tmp_path / "tx.parquet"
    raw.to_parquet(path)
    spec = TransactionSpec(
        customer="id",
        timestamp="date",
        amount="v",
        timestamp_format="%Y%m%d",
        duplicates="keep",
        nonpositive_amounts="keep_zero",
    )
    a = rfm_summary(
        load_transactions(path, spec),
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )
    b = rfm_summary(
        load_transactions(
            ":memory:", spec, query=f"SELECT * FROM read_parquet('{path}') WHERE id <= 100"
        ),
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )
    csv = tmp_path / "tx.csv"
    raw.to_csv(csv, index=False)
    c = rfm_summary(
        load_transactions(csv, spec),
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )
    pd.testing.assert_frame_equal(a.customers, c.customers)
    assert len(a.customers) == 2357 and len(b.customers) == 100
    pd.testing.assert_frame_equal(
        a.customers.head(100).reset_index(drop=True), b.customers.reset_index(drop=True)
    )


def test_transaction_after_the_analysis_date_is_refused():
    log = _log([("a", "2024-01-01", 1.0, 1), ("z9", "2024-03-05", 1.0, 1)])
    with pytest.raises(
        DataValidationError, match=r"no transaction after the analysis date.*1 purchase.*'z9'"
    ):
        rfm_summary(log, calibration_end="2024-01-31", observation_end="2024-02-29")


@pytest.mark.parametrize("value", [0.0, -3.0])
def test_nonpositive_amounts_error_or_counted_exclusion(value):
    rows = [("a", "2024-01-01", 5.0, 1), ("b", "2024-01-02", value, 1)]
    with pytest.raises(
        DataValidationError, match=r"amount > 0.*1 row.*\['b'\].*nonpositive_amounts: exclude"
    ):
        _log(rows)
    with pytest.warns(RowsExcludedWarning, match="1 transaction"):
        log = _log(rows, nonpositive_amounts="exclude")
    assert log.n == 1 and log.exclusions[0]["rule"] == "amount > 0"


def test_zero_kept_but_negative_still_refused_under_keep_zero():
    log = _log([("a", "2024-01-01", 0.0, 1)], nonpositive_amounts="keep_zero")
    assert log.n == 1 and "amount 0" in log.exclusions[0]["detail"]
    with pytest.raises(DataValidationError, match="amount > 0"):
        _log([("a", "2024-01-01", -1.0, 1)], nonpositive_amounts="keep_zero")


def test_duplicated_transactions_error_keep_or_exclude():
    rows = [("a", "2024-01-01", 5.0, 1), ("a", "2024-01-01", 5.0, 1), ("a", "2024-01-03", 2.0, 1)]
    with pytest.raises(
        DataValidationError, match=r"no duplicated transactions.*1 row.*duplicates: keep"
    ):
        _log(rows)
    with pytest.warns(RowsExcludedWarning, match="1 transaction"):
        assert _log(rows, duplicates="exclude").n == 2
    kept = _log(rows, duplicates="keep")
    s = rfm_summary(kept, calibration_end="2024-01-05", observation_end="2024-01-09")
    assert s.customers["first_amount"].tolist() == [
        10.0
    ]  # kept duplicates merged into the day's occasion


def test_customer_without_first_purchase_in_calibration_is_a_counted_exclusion():
    log = _log(
        [
            ("a", "2024-01-01", 1.0, 1),
            ("late", "2024-02-10", 1.0, 1),
            ("late", "2024-02-20", 1.0, 1),
        ]
    )
    with pytest.warns(
        RowsExcludedWarning, match="1 customer.*first purchase is after calibration_end"
    ):
        s = rfm_summary(log, calibration_end="2024-01-31", observation_end="2024-02-29")
    assert s.customers["customer_id"].tolist() == ["a"]
    assert [e for e in s.meta["exclusions"] if e["rule"] == "first purchase after calibration"][0][
        "n_rows"
    ] == 1


def test_wrong_time_unit_is_refused():
    with pytest.raises(SpecError, match=r"time_unit.*'week'.*Did you mean 'weeks'"):
        TransactionSpec(customer="id", timestamp="day", time_unit="week")
    df = pd.DataFrame({"id": [1], "day": [19970101], "value": [1.0], "items": [1]})
    with pytest.raises(
        DataValidationError, match=r"holds numbers.*nanoseconds since 1970.*timestamp_format"
    ):
        load_transactions(df, TransactionSpec(**SPEC))
    log = load_transactions(df, TransactionSpec(**SPEC, timestamp_format="%Y%m%d"))
    assert log.frame["timestamp"].iloc[0] == pd.Timestamp("1997-01-01")
    with pytest.raises(ParameterError, match="bare number has no time unit"):
        rfm_summary(log, calibration_end=39, observation_end="1997-12-31")
    with pytest.raises(SpecError, match="time_unit"):
        rfm_summary(log, calibration_end="1997-06-30", time_unit="fortnights")


def test_other_bad_inputs_name_the_column():
    with pytest.raises(
        DataValidationError, match=r"amount -> 'price' \(closest column: 'prices'\)"
    ):
        load_transactions(
            pd.DataFrame({"id": [1], "day": ["2024-01-01"], "prices": [1.0]}),
            TransactionSpec(customer="id", timestamp="day", amount="price"),
        )
    with pytest.raises(DataValidationError, match=r"timestamp parses.*'soon'"):
        _log([("a", "soon", 1.0, 1)])
    with pytest.raises(DataValidationError, match=r"'value' fails rule 'numeric'"):
        _log([("a", "2024-01-01", "ten", 1)])
    with pytest.raises(ParameterError, match="must be before the analysis date"):
        rfm_summary(
            _log([("a", "2024-01-01", 1.0, 1)]),
            calibration_end="2024-02-01",
            observation_end="2024-01-15",
        )
    with pytest.raises(SpecError, match="unknown key.*'time_units'.*did you mean 'time_unit'"):
        TransactionSpec.from_dict({"customer": "id", "timestamp": "day", "time_units": "weeks"})


def test_spec_from_yaml(tmp_path):
    p = tmp_path / "spec.yml"
    p.write_text(
        "transactions:\n  customer: id\n  timestamp: day\n  amount: value\n  time_unit: days\n"
    )
    spec = TransactionSpec.from_yaml(p)
    assert spec.time_unit == "days" and spec.days_per_unit == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = load_transactions(
            pd.DataFrame(
                {
                    "id": [1, 1, 1],
                    "day": ["2024-01-01", "2024-01-03", "2024-01-10"],
                    "value": [1.0, 2.0, 3.0],
                }
            ),
            p,
        )
    s = rfm_summary(log, calibration_end="2024-01-05")  # analysis date: the last transaction's day
    assert s.customers["recency"].tolist() == [2.0] and s.meta["observation_end"] == "2024-01-10"


def test_fast_duplicate_mask_equals_pandas():
    from workbench.purchases.transactions import _duplicated

    rng = np.random.default_rng(1)
    n = 50_000
    df = pd.DataFrame(
        {
            "customer_id": rng.choice(["a", "b", "c", None], n),
            "timestamp": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
            "amount": rng.choice([0.0, -0.0, 1.5, np.nan], n),
            "quantity": rng.integers(0, 3, n).astype(float),
        }
    )
    np.testing.assert_array_equal(_duplicated(df), df.duplicated(keep="first").to_numpy())
    assert not _duplicated(df.drop_duplicates()).any()
