"""Predictions (P(alive), expected purchases, spend, CLV with intervals), validation and decisions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.cdnow import CALIBRATION_END, OBSERVATION_END, load_cdnow
from workbench.exceptions import ModelError, ParameterError
from workbench.purchases import rfm_summary
from workbench.purchases.bgbb import BGBB
from workbench.purchases.bgnbd import BGNBD, fit_bgnbd
from workbench.purchases.decisions import priority_list
from workbench.purchases.gammagamma import fit_gammagamma
from workbench.purchases.mbgnbd import MBGNBD, fit_mbgnbd
from workbench.purchases.paretonbd import ParetoNBD, fit_paretonbd
from workbench.purchases.predict import predict_customers
from workbench.purchases.validation import compare_models, conditional_expectations, tracking

REF = Path(__file__).resolve().parents[1] / "reference" / "purchases"


@pytest.fixture(scope="module")
def cdnow():
    return rfm_summary(
        load_cdnow(), calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END
    )


@pytest.fixture(scope="module")
def bg(cdnow):
    return fit_bgnbd(cdnow)


@pytest.fixture(scope="module")
def gg(cdnow):
    return fit_gammagamma(cdnow)


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "paretonbd", "bgbb"])
def test_prediction_formulas_match_lifetimes(model):
    """lifetimes 0.11.3 (make_lifetimes_reference.py, run in a throwaway venv) at fixed parameters."""
    ref = pd.read_csv(REF / "lifetimes_predictions.csv")
    ref = ref[ref["model"] == model]
    cls, theta = {
        "bgnbd": (BGNBD, [0.243, 4.414, 0.793, 2.426]),
        "mbgnbd": (MBGNBD, [0.525, 6.183, 0.891, 1.614]),
        "paretonbd": (ParetoNBD, [0.553, 10.578, 0.606, 11.669]),
        "bgbb": (BGBB, [1.2, 0.75, 0.66, 2.78]),
    }[model]
    theta = np.array(theta)
    for q, g in ref.groupby("quantity"):
        x, tx, T = (g[c].to_numpy(float) for c in ("x", "tx", "T"))
        if q == "p_alive":
            got = cls.p_alive(theta, x, tx, T)
        elif q == "unconditional":
            got = cls.expected_purchases(theta, T)
        else:
            got = cls.conditional_expected_purchases(theta, float(q.split("_")[1]), x, tx, T)
        np.testing.assert_allclose(got, g["value"].to_numpy(), rtol=1e-9, err_msg=q)


def test_predictions_with_intervals(cdnow, bg, gg):
    p = predict_customers(
        bg, cdnow, horizon=39, spend_fit=gg, discount_rate=0.0, margin=0.5, n_draws=100, seed=3
    )
    c = p.customers
    assert len(c) == 2357
    for q in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        assert np.all(c[f"{q}_lower"] <= c[q] + 1e-12) and np.all(
            c[q] <= c[f"{q}_upper"] + 1e-12
        ), q
    # no discount: CLV = margin * spend * E[Y(horizon)]
    np.testing.assert_allclose(
        c["clv"], 0.5 * c["expected_spend"] * c["expected_purchases"], rtol=1e-12
    )
    s = p.summary.set_index("quantity")
    assert s.loc["expected_purchases", "estimate"] == pytest.approx(
        1653.41, abs=0.01
    )  # = R's sum of E[Y(39)]
    assert (
        s.loc["expected_purchases", "ci_lower"] < 1653.41 < s.loc["expected_purchases", "ci_upper"]
    )
    assert p.meta["time_unit"] == "weeks" and p.meta["discount_rate_per"] == "weeks"


def test_clv_discounting(cdnow, bg, gg):
    kw = dict(spend_fit=gg, n_draws=0, horizon=52)
    v0 = predict_customers(bg, cdnow, discount_rate=0.0, **kw).customers["clv"]
    v1 = predict_customers(bg, cdnow, discount_rate=0.002, **kw).customers["clv"]
    v2 = predict_customers(bg, cdnow, discount_rate=0.01, **kw).customers["clv"]
    assert np.all(v2 < v1) and np.all(v1 < v0)
    # one customer by hand: weekly increments discounted to each week's end
    i = 0
    x, tx, T = cdnow.arrays()
    th = bg.theta
    ce = [0.0] + [
        float(
            BGNBD.conditional_expected_purchases(th, k, x[i : i + 1], tx[i : i + 1], T[i : i + 1])[
                0
            ]
        )
        for k in range(1, 53)
    ]
    spend = (
        predict_customers(bg, cdnow, discount_rate=0.01, **kw).customers["expected_spend"].iloc[i]
    )
    by_hand = spend * sum((ce[k] - ce[k - 1]) / 1.01**k for k in range(1, 53))
    assert v2.iloc[i] == pytest.approx(by_hand, rel=1e-10)
    # coarser discounting steps: the same undiscounted total
    coarse = predict_customers(bg, cdnow, discount_rate=0.0, step=4, **kw).customers["clv"]
    np.testing.assert_allclose(coarse, v0, rtol=1e-12)


def test_prediction_bad_inputs(cdnow, bg, gg):
    with pytest.raises(ParameterError, match=r"discount_rate.*per week.*Write 10% as 0.10"):
        predict_customers(bg, cdnow, horizon=52, spend_fit=gg, discount_rate=10)
    with pytest.raises(ParameterError, match="`horizon` must be a positive number"):
        predict_customers(bg, cdnow, horizon=0)
    with pytest.raises(ParameterError, match="Gamma-Gamma fit"):
        predict_customers(bg, cdnow, horizon=5, spend_fit=bg)
    with pytest.raises(ParameterError, match="purchase-model fit"):
        predict_customers(gg, cdnow, horizon=5)


def test_tracking_and_conditional_expectations(cdnow, bg):
    t = tracking(bg, cdnow)
    tab = t.tables["tracking"]
    assert len(tab) == 78 and tab["holdout"].sum() == 39
    assert tab["actual_cumulative"].iloc[-1] == 2457 + 1882
    s = t.summary.set_index("term")["estimate"]
    assert s["holdout repeat purchases: actual"] == 1882
    # the model's expected cumulative curve in calibration ends near the actual 2,457
    assert tab.loc[~tab["holdout"], "expected_cumulative"].iloc[-1] == pytest.approx(2457, rel=0.03)
    assert s["holdout MAPE of the cumulative curve (%)"] < 5
    ce = conditional_expectations(bg, cdnow).summary
    assert ce["group"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert ce["n"].sum() == 2357 and ce.loc[0, "n"] == 1411
    assert np.all(np.diff(ce["estimate"]) > 0)
    with pytest.raises(ModelError, match="max_frequency"):
        conditional_expectations(bg, cdnow, max_frequency=0)


def test_model_comparison(cdnow, bg):
    cmp = compare_models(
        {"BG/NBD": bg, "Pareto/NBD": fit_paretonbd(cdnow), "MBG/NBD": fit_mbgnbd(cdnow)}, cdnow
    )
    t = cmp.summary.set_index("term")
    assert list(t.index) == ["BG/NBD", "Pareto/NBD", "MBG/NBD"]
    assert (t["holdout_actual"] == 1882).all() and (t["tracking_mape"] < 10).all()
    assert cmp.meta["best"] == t["mae"].idxmin()
    with pytest.raises(ModelError, match="empty"):
        compare_models({}, cdnow)


def test_priority_list_tiers_and_privacy(cdnow, bg, gg):
    pred = predict_customers(bg, cdnow, horizon=52, spend_fit=gg, discount_rate=0.002, n_draws=0)
    pl = priority_list(pred, key="k")
    c = pl.customers
    assert c["customer_id"].str.match(r"^C-[0-9a-f]{10}$").all()
    assert (c["tier"].value_counts()[["key", "ordinary", "small"]].tolist()) == [
        471,
        1178,
        708,
    ]  # floor(0.2 n), floor(0.7 n) - floor(0.2 n), rest
    key = c[c["tier"] == "key"]
    assert key["value_if_alive"].min() >= c[c["tier"] == "ordinary"]["value_if_alive"].max()
    assert np.all(np.diff(key["value_at_risk"].to_numpy()) <= 0)
    np.testing.assert_allclose(c["value_at_risk"], (1 - c["p_alive"]) * c["value_if_alive"])
    assert pl.summary["n"].sum() == 2357
    with pytest.raises(ParameterError, match="key_share \\+ ordinary_share"):
        priority_list(pred, key_share=0.6, ordinary_share=0.5)
    with pytest.raises(ParameterError, match="needs customer predictions with CLV"):
        priority_list(predict_customers(bg, cdnow, horizon=5, n_draws=0))
