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
