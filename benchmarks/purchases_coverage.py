"""Truth recovery of the purchase models: 95% interval coverage over 200 simulated data sets.

Usage (from the project root)::

    .venv/bin/python benchmarks/purchases_coverage.py [n_reps] [n_customers]

Simulates BG/NBD purchase histories with Gamma-Gamma spend at known parameters
(``workbench.purchases.simulate.COVERAGE_TRUTH``, close to the CDNOW estimates), fits BG/NBD and
Gamma-Gamma, and writes the share of Hessian-based intervals that hold the truth to
``docs/purchases-coverage.md``. The target: every parameter's 95% interval covers the truth in 90-98%
of the replications. The test suite runs a 20-replication version (tests/unit/test_purchases_simulate.py).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from workbench.purchases.simulate import coverage_study

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    n_reps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n_customers = int(sys.argv[2]) if len(sys.argv) > 2 else 2357
    t0, c0 = time.perf_counter(), time.process_time()
    tab = coverage_study(n_reps, n_customers, seed=1000)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    tab["target met (90-98%)"] = (tab["coverage"] >= 0.90) & (tab["coverage"] <= 0.98)
    lines = [
        "# Purchase models: truth recovery",
        "",
        f"{n_reps} simulated data sets of {n_customers:,} customers each (BG/NBD histories with Gamma-Gamma "
        "spend, 12-week joining window, 39-week calibration); BG/NBD and Gamma-Gamma fitted by maximum "
        "likelihood; 95% intervals from the observed information on the log scale. "
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {wall:.0f} s wall, {cpu:.0f} s CPU.",
        "",
        f"Command: `.venv/bin/python benchmarks/purchases_coverage.py {n_reps} {n_customers}`",
        "",
        "| parameter | truth | coverage | mean estimate | mean SE | SD of estimates | target met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for _, r in tab.iterrows():
        lines.append(
            f"| {r['term']} | {r['truth']:g} | {r['coverage']:.1%} | {r['mean_estimate']:.4g} | {r['mean_se']:.3g} | "
            f"{r['sd_estimate']:.3g} | {'yes' if r['target met (90-98%)'] else 'no'} |"
        )
    lines += ["", f"Replications with a fit warning (kept): {int(tab['n_warned'].iloc[0])}.", ""]
    (ROOT / "docs" / "purchases-coverage.md").write_text("\n".join(lines))
    print("\n".join(lines))
