"""Landmark validation of a score recorded in (start, stop] histories (simulated truth)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data.histories import first_spell_intervals, simulate_histories
from workbench.exceptions import (
    ColumnNotFoundError,
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
)
from workbench.survival.landmark import landmark_validation
from workbench.value.health import validate_health_score

COLS = {"id_col": "customer_id", "event_col": "churned"}


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """First spells of 4,000 simulated customers cut at every survey and complaint, with the
    simulation's true log hazard at each row and a random score that knows nothing."""
    h, truth = simulate_histories(4000, seed=7, truth_customers=0)
    out = first_spell_intervals(h)
    b = truth["log_hr"]
    out["true_risk"] = (
        b["satisfaction"] * (out["satisfaction"] - 3)
        + b["complaints"] * out["complaint"]
        + b["long_contract"] * out["long_contract"]
    )
    out["noise"] = np.random.default_rng(1).uniform(0, 100, len(out))
    return out


def _run(rows, score_col, **kw):
    kw = {"landmark": 12, "horizon": 12, "n_boot": 50, **kw}
    with pytest.warns(RowsExcludedWarning, match=r"not at risk at the landmark \(12 months\)"):
        return landmark_validation(rows, score_col=score_col, **COLS, **kw)


def test_score_in_force_and_risk_set_match_a_hand_built_landmark_table(rows):
    """The landmark table built by hand (pandas, row by row rule) gives the same statistics when
    passed to validate_health_score directly: same risk set, same score in force, same outcome."""
    res = _run(rows, "satisfaction", score_range=(1, 5), thresholds=[3])
    L = 12.0
    last = rows.sort_values("stop").groupby("customer_id").tail(1).set_index("customer_id")
    at_risk = last.index[last["stop"] > L]
    inside = rows[(rows["start"] < L) & (rows["stop"] >= L)].set_index("customer_id")
    table = pd.DataFrame(
        {
            "s": inside.loc[at_risk, "satisfaction"].to_numpy(),
            "t": last.loc[at_risk, "stop"].to_numpy() - L,
            "e": last.loc[at_risk, "churned"].to_numpy(),
        }
    )
    ref = validate_health_score(
        table,
        score_col="s",
        duration_col="t",
        event_col="e",
        tenure_unit="months",
        horizon_months=12,
        score_range=(1, 5),
        thresholds=[3],
        n_boot=50,
    )
    assert res.meta["landmark"]["n_at_risk"] == len(table) == ref.meta["n"]
    assert res.meta["landmark"]["n_ended_before"] == int((last["stop"] <= L).sum())
    assert res.meta["auc"] == pytest.approx(ref.meta["auc"], abs=1e-12)
    assert res.meta["concordance"] == pytest.approx(ref.meta["concordance"], abs=1e-12)
    pd.testing.assert_frame_equal(res.summary, ref.summary)
    assert "customer_id" not in res.summary.columns  # ids never reported


def test_score_correlated_with_the_hazard_discriminates_and_noise_does_not(rows):
    lo, hi = rows["true_risk"].min(), rows["true_risk"].max()
    good = _run(rows, "true_risk", score_range=(lo, hi), thresholds=[], higher_is_healthier=False)
    noise = _run(rows, "noise")
    assert good.meta["auc"] > 0.6
    assert good.tables["discrimination"]["ci_lower"].iloc[0] > 0.55  # clearly above chance
    assert abs(noise.meta["auc"] - 0.5) < 0.04
    assert (
        noise.tables["discrimination"]["ci_lower"].iloc[0]
        < 0.5
        < (noise.tables["discrimination"]["ci_upper"].iloc[0])
    )
    sat = _run(rows, "satisfaction", score_range=(1, 5), thresholds=[3])
    assert 0.5 < sat.meta["auc"] < good.meta["auc"]  # one component of the hazard: weaker


def test_landmark_beyond_follow_up_is_refused(rows):
    with pytest.raises(ParameterError, match=r"no customer is at risk at landmark=1000 months"):
        landmark_validation(rows, landmark=1000, horizon=6, score_col="noise", **COLS)


@pytest.mark.parametrize(
    ("arg", "value", "match"),
    [
        (
            "score_col",
            "satisfactoin",
            r"`score_col`='satisfactoin' is not a column.*'satisfaction'",
        ),
        ("id_col", "customer", r"`id_col`='customer' is not a column"),
        ("stop_col", "end", r"`stop_col`='end' is not a column"),
    ],
)
def test_unknown_columns_are_named(rows, arg, value, match):
    kw = {"score_col": "noise", **COLS, arg: value}
    with pytest.raises(ColumnNotFoundError, match=match):
        landmark_validation(rows, landmark=12, horizon=6, **kw)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"landmark": -1}, r"`landmark` must be a number >= 0 \(months\), got -1"),
        ({"horizon": 0}, r"`horizon` must be a number > 0 \(months\), got 0"),
    ],
)
def test_bad_landmark_or_horizon(rows, kw, match):
    with pytest.raises(ParameterError, match=match):
        landmark_validation(rows, score_col="noise", **COLS, **{"landmark": 12, "horizon": 6, **kw})


def test_overlapping_rows_and_missing_score_are_refused():
    df = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "start": [0.0, 5.0, 0.0],
            "stop": [10.0, 20.0, 30.0],
            "churned": [0, 1, 0],
            "score": [50.0, 60.0, np.nan],
        }
    )
    with pytest.raises(DataValidationError, match=r"rule 'intervals do not overlap': 1 row"):
        landmark_validation(df, landmark=8, horizon=6, score_col="score", **COLS)
    ok = df.assign(start=[0.0, 10.0, 0.0])
    with pytest.raises(
        DataValidationError, match=r"1 of 2 customers at risk .* no `score` in force"
    ):
        landmark_validation(ok, landmark=15, horizon=6, score_col="score", **COLS)
    with pytest.raises(DataValidationError, match=r"1 row\(s\) have `churned` = 1 before the"):
        landmark_validation(
            ok.assign(churned=[1, 0, 0]), landmark=15, horizon=6, score_col="score", **COLS
        )
    with pytest.raises(DataValidationError, match=r"column 'churned' fails rule 'event is 0/1'"):
        landmark_validation(
            ok.assign(churned=[0, 2, 0]), landmark=15, horizon=6, score_col="score", **COLS
        )


def test_risk_set_and_score_in_force_on_a_small_hand_example():
    """c1 at risk, score of the row containing 12 (40), churns 8 months later; c2 churns at the
    landmark (not at risk); c3 enters at 14 (later); c4 has a gap around 12; c5's row (0, 12]
    contains the landmark, so its score is 90, not the 20 measured at 12 and used after it."""
    df = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4, 4, 5, 5],
            "start": [0.0, 10.0, 0.0, 14.0, 0.0, 15.0, 0.0, 12.0],
            "stop": [10.0, 20.0, 12.0, 30.0, 5.0, 25.0, 12.0, 40.0],
            "churned": [0, 1, 1, 0, 0, 1, 0, 0],
            "score": [80.0, 40.0, 10.0, 50.0, 50.0, 50.0, 90.0, 20.0],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = landmark_validation(
            df, landmark=12, horizon=12, score_col="score", n_boot=0, thresholds=[60], **COLS
        )
    excluded = [str(w.message) for w in caught if issubclass(w.category, RowsExcludedWarning)]
    assert excluded == [
        "3 of 5 customers are not at risk at the landmark (12 months) and are not assessed: 1 "
        "churned or were censored by then, 1 came under observation later, 1 had no row covering it."
    ]
    assert res.meta["landmark"] == {
        "landmark": 12.0,
        "horizon": 12.0,
        "tenure_unit": "months",
        "score": "score",
        "n_customers": 5,
        "n_at_risk": 2,
        "n_ended_before": 1,
        "n_entered_after": 1,
        "n_not_observed": 1,
    }
    assert res.meta["auc"] == 1.0  # churner c1 scored 40, stayer c5 scored 90 (20 would give 0)
    given = res.summary[res.summary["rule"] == "given"].iloc[0]
    assert given["flagged_share"] == 0.5 and given["lead_time_median_months"] == 8.0
