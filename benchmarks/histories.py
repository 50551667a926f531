"""Benchmark of customer histories: the (start, stop] builder on DuckDB, and counting-process Cox
against R's ``coxph`` on the same rows.

Usage: ``.venv/bin/python benchmarks/histories.py`` (``--customers``, ``--survey-rate``,
``--cox-rows`` to change the sizes). Writes ``benchmarks/histories_results.json`` and prints a
Markdown table (kept in ``docs/histories.md``).

1. Data (not timed): ``simulate_histories(customers)`` with surveys every ``1 / survey_rate``
   months, so that 1,000,000 customers have about 10,000,000 dated events (satisfaction surveys,
   complaints, win-back contacts); spells and log are written to Parquet.
2. ``build``: :func:`workbench.data.events.build_intervals` from the two Parquet files to a
   Parquet file of (start, stop] rows (satisfaction carried forward, complaints counted), in a
   fresh process: wall time and peak resident memory of that process (``os.wait4``).
3. ``cox``: the first ``cox_rows`` rows (whole customers) -> Cox (Efron ties, robust SE by
   customer) by the workbench engine and by R ``coxph(Surv(start, stop, event) ~ ..., cluster =
   id)``, each in its own process, timing the model call only; the coefficients are compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
COLS = ["id", "start", "stop", "event", "satisfaction", "complaint", "second_spell"]


def _child(code: str, *args: str) -> tuple[dict, float]:
    """Run ``code`` in a fresh Python; return its JSON result and peak RSS in MB."""
    proc = subprocess.Popen([PY, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"child failed ({status}): {out[-2000:]}")
    line = [x for x in out.splitlines() if x.startswith("@@RESULT@@")][-1]
    res = json.loads(line[len("@@RESULT@@") :])
    res["process_cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return res, usage.ru_maxrss / 1024


MAKE = r"""
import sys, time, json
from workbench.data.histories import simulate_histories
n, rate, d = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
h, _ = simulate_histories(n, seed=2026, truth_customers=0, survey_rate=rate)
sp = h.spells.merge(h.customers[["customer_id", "join_date"]], on="customer_id")
sp.to_parquet(d + "/spells.parquet")
h.events.to_parquet(d + "/events.parquet")
print("@@RESULT@@" + json.dumps({"seconds": time.perf_counter() - t0, "spells": len(sp),
      "events": len(h.events), "analysis_date": str(h.analysis_date)}))
"""

BUILD = r"""
import sys, time, json
import duckdb
from workbench.data.events import build_intervals
d, adate = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
out = build_intervals(d + "/spells.parquet", d + "/events.parquet", id_col="customer_id",
    start_col="start_date", stop_col="stop_date", event_col="churned", time_col="date",
    join_col="join_date", rules={"satisfaction": "last", "complaint": "count"},
    analysis_time=adate, out=d + "/rows.parquet", memory_limit="3GB")
sec = time.perf_counter() - t0
rows = duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall()[0][0]
print("@@RESULT@@" + json.dumps({"seconds": sec, "rows": rows}))
"""

EXTRACT = r"""
import sys, json
import duckdb, numpy as np
d, k = sys.argv[1], int(sys.argv[2])
q = f'''SELECT customer_id AS id, start, stop, churned AS event, satisfaction, complaint,
         CAST(spell > 1 AS DOUBLE) AS second_spell FROM '{d}/rows.parquet'
         WHERE customer_id <= (SELECT max(customer_id) FROM (SELECT customer_id FROM
           '{d}/rows.parquet' ORDER BY customer_id, spell, start LIMIT {k}))
         ORDER BY customer_id, spell, start'''
df = duckdb.sql(q).df()
np.asfortranarray(df.to_numpy(dtype=np.float64)).T.tofile(d + "/cox.bin")
print("@@RESULT@@" + json.dumps({"rows": len(df), "customers": int(df["id"].nunique()),
      "events": int(df["event"].sum())}))
"""

COX = r"""
import sys, time, json
import numpy as np
from workbench.survival.engine import cox_fit
d, n = sys.argv[1], int(sys.argv[2])
m = np.fromfile(d + "/cox.bin", dtype=np.float64).reshape(7, n)
X = m[4:7].T.copy()
t0, c0 = time.perf_counter(), time.process_time()
fit = cox_fit(X, m[2], m[3], entry=m[1], cluster=m[0], ties="efron")
sec, cpu = time.perf_counter() - t0, time.process_time() - c0
print("@@RESULT@@" + json.dumps({"seconds": sec, "cpu": cpu, "coef": fit.params.tolist(),
      "robust_se": fit.se.tolist(), "iterations": fit.n_iter}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--survey-rate", type=float, default=0.3)
    ap.add_argument("--cox-rows", type=int, default=5_000_000)
    ap.add_argument("--out", default=str(HERE / "histories_results.json"))
    ap.add_argument("--workdir", default=None, help="keep the data here (reused when present)")
    a = ap.parse_args()
    res: dict = {"customers": a.customers}
    with tempfile.TemporaryDirectory(prefix="wb-hist-") as tmp:
        d = a.workdir or tmp
        Path(d).mkdir(parents=True, exist_ok=True)
        meta = Path(d) / "data.json"
        if meta.exists():
            made = json.loads(meta.read_text())
        else:
            made, mrss = _child(MAKE, str(a.customers), str(a.survey_rate), d)
            made["peak_mb"] = mrss
            meta.write_text(json.dumps(made))
        res["data"] = made
        print(
            f"data: {made['spells']:,} spells, {made['events']:,} events ({made['seconds']:.0f} s)"
        )
        built, brss = _child(BUILD, d, made["analysis_date"])
        res["build"] = {**built, "peak_mb": brss}
        print(
            f"build: {built['rows']:,} rows in {built['seconds']:.1f} s (process CPU "
            f"{built['process_cpu_seconds']:.1f} s), peak {brss:,.0f} MB"
        )
        ext, _ = _child(EXTRACT, d, str(a.cox_rows))
        res["cox_data"] = ext
        cox, crss = _child(COX, d, str(ext["rows"]))
        res["cox_workbench"] = {**cox, "peak_mb": crss}
        print(
            f"cox workbench: {cox['seconds']:.1f} s (CPU {cox['cpu']:.1f} s), peak {crss:,.0f} MB"
        )
        t0 = time.perf_counter()
        p = subprocess.run(
            ["Rscript", str(HERE / "r_histories.R"), d + "/cox.bin", str(ext["rows"])],
            capture_output=True,
            text=True,
        )
        line = [x for x in p.stdout.splitlines() if x.startswith("@@RESULT@@")]
        if line:
            r = json.loads(line[-1][len("@@RESULT@@") :])
            res["cox_r"] = {**r, "wall_with_reading": time.perf_counter() - t0}
            diff = max(abs(x - y) for x, y in zip(cox["coef"], r["coef"]))
            sdiff = max(abs(x - y) for x, y in zip(cox["robust_se"], r["robust_se"]))
            res["cox_agreement"] = {"max_abs_coef_diff": diff, "max_abs_robust_se_diff": sdiff}
            print(
                f"cox R: {r['seconds']:.1f} s (CPU {r['cpu']:.1f} s); max |coef diff| {diff:.2e}, "
                f"|se diff| {sdiff:.2e}"
            )
        else:
            res["cox_r"] = {"error": p.stderr[-2000:]}
            print("R failed:", p.stderr[-500:])
    Path(a.out).write_text(json.dumps(res, indent=1))
    b, c = res["build"], res["cox_workbench"]
    rr = res.get("cox_r", {})
    print()
    print("| step | size | workbench wall (CPU) | peak memory | R survival wall (CPU) |")
    print("|---|---|---|---|---|")
    print(
        f"| build (start, stop] rows (DuckDB) | {res['data']['events']:,} events, "
        f"{a.customers:,} customers -> {b['rows']:,} rows | {b['seconds']:.1f} s "
        f"({b['process_cpu_seconds']:.1f} s) | {b['peak_mb']:,.0f} MB | (tmerge: not run) |"
    )
    print(
        f"| counting-process Cox, Efron, robust SE | {res['cox_data']['rows']:,} rows, "
        f"{res['cox_data']['customers']:,} customers | {c['seconds']:.1f} s ({c['cpu']:.1f} s) | "
        f"{c['peak_mb']:,.0f} MB | {rr.get('seconds', float('nan')):.1f} s "
        f"({rr.get('cpu', float('nan')):.1f} s) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
