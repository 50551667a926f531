"""The simulated histories know their truth: recovery tests (fixed seeds).

Calibration: each check is a pointwise 95% interval covering a fixed truth, so a correct estimator
misses one check about 5% of the time per seed; the seeds are fixed, so the outcome is reproducible,
and a wrong estimator (the naive Kaplan-Meier of a snapshot, a Cox fit that ignores the time-varying
covariates) misses by many standard errors, not by a hair.
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data.events import state_table
from workbench.data.histories import first_spell_intervals, simulate_histories, snapshot
from workbench.exceptions import ParameterError
from workbench.survival import fit_cox, kaplan_meier
from workbench.survival.multistate import aalen_johansen, transition_cox, winback_curve

HORIZONS = [6.0, 12.0, 24.0, 48.0]


def test_snapshot_naive_km_misses_and_entry_km_covers_the_truth():
    """200,000 simulated customers, the one-quarter snapshot a company would export (about 84,000
    customers active in the window). Truth: 200,000 further customers simulated without censoring
    (Monte Carlo SE <= 0.0011, a tenth of the interval half-widths)."""
    h, truth = simulate_histories(200_000, seed=11, truth_customers=200_000, survey_rate=1 / 12)
    snap = snapshot(h, window_months=3)
    assert (snap["entry"] > 0).mean() > 0.9  # almost everyone was already a customer
    tv = np.array([truth["survival"][truth["grid"].index(t)] for t in HORIZONS])
    naive = kaplan_meier(snap, duration_col="tenure", event_col="churned", times=HORIZONS)
    entry = kaplan_meier(
        snap, duration_col="tenure", event_col="churned", entry_col="entry", times=HORIZONS
    )
    a, b = naive.tables["at_times"], entry.tables["at_times"]
    assert ((a["ci_lower"] > tv) | (a["ci_upper"] < tv)).all()  # misses at every horizon
    assert (a["survival"] - tv > 0.1).all()  # and by a lot: survivors are over-represented
    assert ((b["ci_lower"] <= tv) & (tv <= b["ci_upper"])).all()


def test_time_varying_satisfaction_and_complaints_recovered():
    """First spells of 40,000 customers -> (start, stop] rows (satisfaction: last survey value,
    complaints: count so far) -> Cox with robust SEs by customer covers the true log hazard ratios;
    the baseline-only model (satisfaction at joining) does not recover the satisfaction effect."""
    h, truth = simulate_histories(40_000, seed=21, truth_customers=0)
    rows = first_spell_intervals(h)
    rows["sat_minus_3"] = rows["satisfaction"] - 3
    res = fit_cox(
        rows,
        start_col="start",
        stop_col="stop",
        event_col="churned",
        id_col="customer_id",
        covariates=["sat_minus_3", "complaint", "long_contract"],
    )
    s = res.summary.set_index("term")
    true = {
        "sat_minus_3": truth["log_hr"]["satisfaction"],
        "complaint": truth["log_hr"]["complaints"],
        "long_contract": truth["log_hr"]["long_contract"],
    }
    for term, b in true.items():
        lo, hi = s.loc[term, "ci_lower"], s.loc[term, "ci_upper"]  # log scale, as the estimate
        assert lo <= b <= hi, (term, lo, b, hi)
    # satisfaction frozen at joining: attenuated, its interval misses the truth
    base = rows.groupby("customer_id").agg(
        start=("start", "min"),
        stop=("stop", "max"),
        churned=("churned", "max"),
        sat0=("sat_minus_3", "first"),
        long_contract=("long_contract", "first"),
    )
    frozen = fit_cox(base, duration_col="stop", event_col="churned", covariates=["sat0"])
    assert frozen.summary["ci_lower"].iloc[0] > truth["log_hr"]["satisfaction"]


def test_transition_hazards_recovered():
    """Win-back: the churned -> reactivated hazard is constant in months since churn (0.04 per
    month, x exp(0.8) when contacted); second spells churn exp(0.4) times faster."""
    h, truth = simulate_histories(30_000, seed=31, truth_customers=100_000)
    rows = state_table(
        h.spells,
        id_col="customer_id",
        start_col="start_date",
        stop_col="stop_date",
        event_col="churned",
        analysis_time=h.analysis_date,
    )
    rows = rows.merge(h.customers[["customer_id", "contacted", "long_contract"]], on="customer_id")
    tc = transition_cox(
        rows,
        id_col="customer_id",
        clock="reset",
        covariates={
            "churned->reactivated": ["contacted"],
            "reactivated->churned_again": ["long_contract"],
        },
    )
    s = tc.summary.set_index(["transition", "term"])
    b = s.loc[("churned->reactivated", "contacted")]
    assert b["ci_lower"] <= truth["log_hr"]["winback_contact"] <= b["ci_upper"]
    b = s.loc[("reactivated->churned_again", "long_contract")]
    assert b["ci_lower"] <= truth["log_hr"]["long_contract"] <= b["ci_upper"]
    # the win-back curve at 6 months: 1 - exp(-6 * rate) for each arm
    wb = winback_curve(rows, id_col="customer_id", group_col="contacted", times=[6.0])
    for arm, key in ((0, "not_contacted"), (1, "contacted")):
        row = wb.summary[wb.summary["group"] == str(arm)].iloc[0]
        p = 1 - np.exp(-6 * truth["winback_rate"][key])
        assert row["ci_lower"] <= p <= row["ci_upper"], (arm, row.to_dict(), p)
    # state occupation at 12 and 24 months covers the uncensored truth
    aj = aalen_johansen(rows, id_col="customer_id", times=[12.0, 24.0])
    for r in aj.summary.itertuples():
        t = truth["state_occupation"][r.state][truth["grid"].index(r.time)]
        assert abs(r.estimate - t) <= 1.96 * np.hypot(r.se, 0.002), (r, t)


def test_simulator_refuses_unknown_knobs():
    with pytest.raises(ParameterError, match="unknown knob"):
        simulate_histories(100, seed=1, satisfaction_effect=1.0)
