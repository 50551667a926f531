"""``benchmarks/bench_aggregate.aggregate_cases``: the rows ``make bench`` puts in results.json for
the aggregated cases, on a small table (the 100,000,000-row run is in docs/aggregate.md)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_aggregate  # noqa: E402


def test_aggregate_cases_rows_and_agreement():
    rows = bench_aggregate.aggregate_cases(50_000, chunk=25_000, slice_rows=20_000)
    assert rows and all(r["case"].startswith("aggregate") for r in rows)
    timed = {r["case"]: r for r in rows if r["median_s"] is not None}
    req = timed["aggregate required (counts+km+logrank+monthly rates)"]
    assert req["n"] == 50_000 and req["peak_mb"] > 0 and req["cpu_s"] >= 0
    assert req["targets"]["slice_equal_to_1e-10"] is True
    checks = {r["case"]: r["check"] for r in rows if r["median_s"] is None}
    assert {"aggregate agreement logrank", "aggregate agreement cox_efron"} <= set(checks)
    assert max(checks.values()) <= 1e-10
