"""Multi-state estimates against R ``survival`` 3.5 (tests/reference/histories/make_reference.R).

Data: 300 simulated customers (``simulate_histories(300, seed=3)`` -> ``state_table``) in the states
active -> churned -> reactivated -> churned_again, and the same customers seen only in their last
24 months of tenure (``window``: delayed entry, customers enter in any state).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.survival.multistate import aalen_johansen, transition_cox

REF = Path(__file__).resolve().parents[1] / "reference" / "histories"
TOL = 1e-8


def _data(tag: str) -> pd.DataFrame:
    ms = pd.read_csv(REF / "winback_states.csv")
    if tag == "window":
        ms = ms[ms["stop"] > ms["window_entry"]].copy()
        ms["start"] = np.maximum(ms["start"], ms["window_entry"])
    return ms


@pytest.mark.parametrize("tag", ["full", "window"])
def test_state_occupation_matches_survfit(tag):
    """survfit(Surv(start, stop, to) ~ 1, id = customer_id, istate = from): pstate, std.err
    (infinitesimal jackknife summed by id), log-scale CI, n.risk; rmean at 60 months."""
    ref = pd.read_csv(REF / f"ms_{tag}_pstate.csv")
    aj = aalen_johansen(_data(tag), id_col="customer_id", tau=60)
    cur = aj.tables["curves"]
    for state, r in ref.groupby("state", sort=False):
        c = cur[cur["state"] == state].reset_index(drop=True)
        # R lists every time (censorings too) with 15 significant digits; the estimate is a step
        # function of the event times, so each R time is looked up in ours (times differ by >= 0.03)
        idx = np.searchsorted(c["time"].to_numpy(), r["time"].to_numpy() + 1e-9, side="right") - 1
        keep = idx >= 0  # before the first transition (R: the initial distribution)
        got = c.iloc[idx[keep]].reset_index(drop=True)
        r = r[keep].reset_index(drop=True)
        np.testing.assert_allclose(got["estimate"], r["estimate"], atol=TOL)
        np.testing.assert_allclose(got["se"], r["se"], atol=TOL)
        ok = r["lower"].notna().to_numpy()
        np.testing.assert_allclose(got["ci_lower"][ok], r["lower"][ok], atol=TOL)
        np.testing.assert_allclose(got["ci_upper"][ok], r["upper"][ok], atol=TOL)
        at_event = np.abs(got["time"] - r["time"]) < 1e-9
        assert at_event.sum() > 100
        np.testing.assert_array_equal(got["n_risk"][at_event], r["n_risk"][at_event])
    rm = pd.read_csv(REF / f"ms_{tag}_rmean60.csv")
    np.testing.assert_allclose(aj.tables["expected_time"]["estimate"], rm["rmean"], atol=1e-8)
    assert aj.tables["expected_time"]["estimate"].sum() == pytest.approx(60.0, abs=1e-9)


def test_state_occupation_summary_sums_to_one():
    aj = aalen_johansen(_data("window"), id_col="customer_id", times=[6, 12, 24])
    sums = aj.summary.groupby("time")["estimate"].sum()
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    assert (aj.summary["se"] >= 0).all()


def test_transition_cox_matches_multistate_coxph():
    """coxph(list(Surv(start, stop, to) ~ long_contract, 2:3 ~ contacted), id = customer_id,
    istate = from): transition-specific coefficients and robust SEs."""
    ref = pd.read_csv(REF / "ms_cox.csv").set_index("term")
    fit = transition_cox(
        _data("full"),
        id_col="customer_id",
        covariates={
            "active->churned": ["long_contract"],
            "churned->reactivated": ["long_contract", "contacted"],
            "reactivated->churned_again": ["long_contract"],
        },
    )
    s = fit.summary.set_index(["transition", "term"])
    pairs = {
        ("active->churned", "long_contract"): "long_contract_1:2",
        ("churned->reactivated", "long_contract"): "long_contract_2:3",
        ("churned->reactivated", "contacted"): "contacted",
        ("reactivated->churned_again", "long_contract"): "long_contract_3:4",
    }
    for key, name in pairs.items():
        assert s.loc[key, "estimate"] == pytest.approx(ref.loc[name, "coef"], abs=1e-6)
        assert s.loc[key, "se"] == pytest.approx(ref.loc[name, "robust_se"], abs=1e-6)
