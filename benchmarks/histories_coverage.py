"""Coverage study of the history estimators on repeated simulations (a committed script; its
table is kept in ``docs/histories.md``).

Usage: ``.venv/bin/python benchmarks/histories_coverage.py --replicates 20 --customers 100000``.

Per replicate (seed = 1000 + r): ``simulate_histories`` -> the one-quarter snapshot -> Kaplan-Meier
with and without delayed entry at 6, 12, 24 and 48 months against the uncensored truth (whose Monte
Carlo error is added to the interval in quadrature); the first spells -> (start, stop] rows -> Cox
with time-varying satisfaction and complaint counts against the true log hazard ratios; the
multi-state rows -> the transition Cox of the win-back contact (months since churn). Prints the
share of 95% intervals that cover the truth per quantity.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from workbench.data.events import state_table
from workbench.data.histories import first_spell_intervals, simulate_histories, snapshot
from workbench.survival import fit_cox, kaplan_meier
from workbench.survival.multistate import transition_cox

HORIZONS = [6.0, 12.0, 24.0, 48.0]


def replicate(seed: int, n: int) -> dict:
    h, truth = simulate_histories(n, seed=seed, truth_customers=2 * n)
    snap = snapshot(h)
    tv = np.array([truth["survival"][truth["grid"].index(t)] for t in HORIZONS])
    mc = np.array([truth["survival_mc_se"][truth["grid"].index(t)] for t in HORIZONS])
    out = {}
    for name, entry in (("naive", None), ("entry", "entry")):
        km = kaplan_meier(
            snap, duration_col="tenure", event_col="churned", entry_col=entry, times=HORIZONS
        )
        a = km.tables["at_times"]
        half = (a["ci_upper"] - a["ci_lower"]).to_numpy() / 2
        wide = np.sqrt(half**2 + (1.96 * mc) ** 2)
        mid = ((a["ci_upper"] + a["ci_lower"]) / 2).to_numpy()
        out[name] = (np.abs(mid - tv) <= wide).tolist()
    rows = first_spell_intervals(h)
    rows["sat"] = rows["satisfaction"] - 3
    cox = fit_cox(
        rows,
        start_col="start",
        stop_col="stop",
        event_col="churned",
        id_col="customer_id",
        covariates=["sat", "complaint", "long_contract"],
    )
    s = cox.summary.set_index("term")
    for term, key in (("sat", "satisfaction"), ("complaint", "complaints")):
        b = truth["log_hr"][key]
        out[f"cox_{term}"] = bool(s.loc[term, "ci_lower"] <= b <= s.loc[term, "ci_upper"])
    ms = state_table(
        h.spells,
        id_col="customer_id",
        start_col="start_date",
        stop_col="stop_date",
        event_col="churned",
        analysis_time=h.analysis_date,
    )
    ms = ms.merge(h.customers[["customer_id", "contacted"]], on="customer_id")
    tc = transition_cox(
        ms, id_col="customer_id", clock="reset", covariates={"churned->reactivated": ["contacted"]}
    )
    r = tc.summary.iloc[0]
    out["winback_contact"] = bool(
        r["ci_lower"] <= truth["log_hr"]["winback_contact"] <= r["ci_upper"]
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--customers", type=int, default=100_000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    reps = [replicate(1000 + r, a.customers) for r in range(a.replicates)]
    print(
        f"{a.replicates} replicates of {a.customers:,} customers in {time.perf_counter() - t0:.0f} s"
    )
    print("| quantity | 95% intervals covering the truth |")
    print("|---|---|")
    for name in ("naive", "entry"):
        cov = np.mean([r[name] for r in reps], axis=0)
        for t, c in zip(HORIZONS, cov):
            print(f"| KM {name}, S({t:g}) | {100 * c:.0f}% |")
    for key in ("cox_sat", "cox_complaint", "winback_contact"):
        print(f"| {key} | {100 * np.mean([r[key] for r in reps]):.0f}% |")
    json.dump(reps, sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
