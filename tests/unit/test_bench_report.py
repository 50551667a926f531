"""``benchmarks/_report.py``: ratios and the Markdown report are computed from the rows (no timing
is asserted here; the numbers below are made up)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import _report as R  # noqa: E402


def _row(case, n, tool, s, cpu, **kw):
    return {
        "case": case,
        "n": n,
        "tool": tool,
        "status": "ok",
        "median_s": s,
        "cpu_s": cpu,
        "peak_mb": 100.0,
        "runs": 3,
        "load_before": 1.0,
        "load_after": 1.5,
        **kw,
    }


@pytest.fixture
def rows():
    return [
        _row("cox_days", 100_000, R.WB, 0.2, 0.2, check=[1.0, 2.0]),
        _row("cox_days", 100_000, R.WB_FIT_COX, 0.4, 0.3),
        _row("cox_days", 100_000, R.WB_FIT_COX_PH, 0.5, 0.5),
        _row("cox_days", 100_000, "R survival", 0.8, 0.8, check=[1.0, 2.000002]),
        _row("cox_days", 100_000, R.R_ZPH, 2.0, 1.0),
        _row("cox_days", 100_000, "lifelines", 1.6, 1.2),
        {"case": "cox_days", "n": 100_000, "tool": "statsmodels", "status": "timeout", "note": "x"},
    ]


def test_each_peer_gets_a_ratio_to_each_comparable_workbench_tool(rows):
    R.add_ratios(rows)
    r_surv, zph, ll = rows[3], rows[4], rows[5]
    assert r_surv["ratios"] == pytest.approx({R.WB: 4.0, R.WB_FIT_COX: 2.0})
    assert r_surv["cpu_ratios"] == pytest.approx({R.WB: 4.0, R.WB_FIT_COX: 0.8 / 0.3})
    # the PH test is compared with cox.zph only, and cox.zph with nothing else
    assert zph["ratios"] == pytest.approx({R.WB_FIT_COX_PH: 4.0})
    assert R.WB_FIT_COX_PH not in ll["ratios"]
    assert rows[1]["ratio_to_engine"] == pytest.approx(2.0)
    assert r_surv["coef_max_rel_diff"] == pytest.approx(1e-6, rel=1e-3)
    assert "ratios" not in rows[6]  # a timed-out peer has no ratio


def test_markdown_states_date_machine_load_and_targets(rows):
    R.add_ratios(rows)
    meta = {
        "when": "2026-12-04 22:30 UTC",
        "machine": "CPU X, 2 CPUs",
        "load_average_start": (0.5, 0.6, 0.7),
        "load_average": (1.5, 1.0, 0.8),
        "total_s": 10.0,
        "command": "python benchmarks/run.py",
        "versions": {"numpy": "2"},
    }
    meta["targets"] = R.targets(rows)
    md = R.markdown(rows, meta)
    assert "2026-12-04 22:30 UTC" in md and "CPU X, 2 CPUs" in md
    assert "0.50 / 0.60 / 0.70 at the start" in md
    # fit_cox: 0.4 s vs R 0.8 s = 0.5 of R's time, not the 0.2 asked
    assert any("0.50 of R's time (target <= 0.2: NOT met" in t for t in meta["targets"])
    assert any("fit_cox 0.40 s vs engine 0.20 s = 2.00x" in t for t in meta["targets"])
    # summary line of the engine: its fastest comparable peer is R survival (0.8 s), 4.00x
    line = next(x for x in md.splitlines() if x.startswith("| cox_days | 100,000 | workbench |"))
    assert "| R survival | 0.8 |" in line and "| 4.00 |" in line
    assert "**timeout**" in md


def test_targets_state_stratified_km_and_aggregate_lines_with_verdicts():
    rows = [
        _row("cox_days", 1_000_000, R.WB_FIT_COX, 0.8, 0.8),
        _row("cox_stratified", 1_000_000, R.WB_FIT_COX, 1.4, 1.4),
        _row("km_logrank", 1_000_000, R.WB, 0.2, 0.1),
        _row("km_logrank", 1_000_000, "statsmodels", 0.15, 0.3),
        _row("aggregate required (counts+km+logrank+monthly rates)", 100_000_000, "agg", 70.0, 9),
        {**_row("aggregate agreement logrank", 1_000_000, "agg", None, None), "check": 3e-12},
        {**_row("aggregate agreement cox_efron", 1_000_000, "agg", None, None), "check": 2e-10},
    ]
    t = R.targets(rows)
    assert any("stratified fit_cox (12 strata) at 1,000,000" in x and "1.75x" in x for x in t)
    assert any("1.75x (target <= 1.5x: NOT met" in x for x in t)
    # slower on the wall clock than statsmodels: not met, even though the CPU time is lower
    assert any("Kaplan-Meier + log-rank at 1,000,000" in x and "no slower: NOT met" in x for x in t)
    agg = next(x for x in t if x.startswith("aggregated survival"))
    assert "100,000,000-row" in agg and "70.0 s (target < 60 s: NOT met)" in agg
    assert "2.0e-10 over 2 results (target <= 1e-10: NOT met)" in agg


def test_plan_runs_target_peers_first_and_the_aggregated_table():
    import run

    tasks = run.plan([100_000, 1_000_000], lambda c: True)
    sm = [t for t in tasks if t[1:2] == ("km_logrank",) and t[3] == "statsmodels"]
    assert [(t[0], t[2], t[4]) for t in sm] == [(1, 100_000, 3), (1, 1_000_000, 3)]
    assert (2, "aggregate", None, R.WB, 1) in tasks
    assert not any(t[1] in run.HELPER_CASES and t[0] == 1 for t in tasks)
