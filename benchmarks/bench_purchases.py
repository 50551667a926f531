"""Purchase histories at scale: the workbench beside ``lifetimes`` on the same data.

Usage (from the project root)::

    .venv/bin/python benchmarks/bench_purchases.py            # prints the table, writes purchases_results.md
    BENCH_LIFETIMES_PYTHON=/tmp/lt/bin/python .venv/bin/python benchmarks/bench_purchases.py

``lifetimes`` is not a project dependency (unmaintained since 2020); it runs in its own interpreter,
given by ``BENCH_LIFETIMES_PYTHON`` (a venv with ``pip install lifetimes==0.11.3``), and is skipped
with the reason when that is not set. ``benchmarks/run.py`` runs this file's :func:`run` as its
``purchases`` case.

Cases (data made before timing, timed calls only; wall seconds, one run each since they are long):

* ``rfm_duckdb``: 10,000,000 transactions of 1,000,000 customers in a Parquet file -> checked log
  (``load_transactions`` with a DuckDB query) -> ``rfm_summary`` (target < 20 s); lifetimes:
  ``summary_data_from_transaction_data`` on the same file read with pandas;
* ``bgnbd_fit``: BG/NBD on 1,000,000 simulated customers (target < 10 s); lifetimes ``BetaGeoFitter``;
* ``predict``: P(alive) and expected purchases in 52 weeks for the same 1,000,000 (target < 2 s);
  lifetimes ``conditional_probability_alive`` + ``conditional_expected_number_of_purchases_up_to_time``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
N_CUSTOMERS = int(os.environ.get("BENCH_PURCHASES_CUSTOMERS", 1_000_000))
TX_PER_CUSTOMER = 10
PEER_TIMEOUT = float(os.environ.get("BENCH_PURCHASES_PEER_TIMEOUT", 600))
TARGETS = {"rfm_duckdb": 20.0, "bgnbd_fit": 10.0, "predict": 2.0}


def make_transactions(path: Path, n: int, seed: int = 7) -> int:
    """About ``TX_PER_CUSTOMER * n`` transactions over two years, written to Parquet; returns rows."""
    rng = np.random.default_rng(seed)
    counts = 1 + rng.poisson(TX_PER_CUSTOMER - 1, n)
    ids = np.repeat(np.arange(1, n + 1), counts)
    first = rng.integers(0, 180, n)
    day = np.repeat(first, counts) + (
        rng.random(ids.size) * (730 - np.repeat(first, counts))
    ).astype(int)
    day[np.concatenate([[0], np.cumsum(counts)[:-1]])] = first  # each customer's first purchase
    df = pd.DataFrame(
        {
            "customer": ids,
            "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(day, unit="D"),
            "amount": np.round(rng.gamma(4.0, 10.0, ids.size) + 0.01, 2),
        }
    )
    df.to_parquet(path, index=False)
    return len(df)


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def ours(tmp: Path, n_tx: int) -> list[dict]:
    from workbench.purchases import (
        TransactionSpec,
        fit_bgnbd,
        load_transactions,
        predict_customers,
        rfm_summary,
    )
    from workbench.purchases.simulate import simulate_bgnbd

    spec = TransactionSpec(
        customer="customer", timestamp="date", amount="amount", time_unit="weeks", duplicates="keep"
    )
    path = tmp / "tx.parquet"

    def rfm():
        log = load_transactions(":memory:", spec, query=f"SELECT * FROM read_parquet('{path}')")
        return rfm_summary(log, calibration_end="2023-06-30", observation_end="2023-12-31")

    s, wall, cpu = _timed(rfm)
    rows = [
        {
            "case": "rfm_duckdb",
            "n": n_tx,
            "customers": len(s.customers),
            "tool": "workbench",
            "median_s": wall,
            "cpu_s": cpu,
        }
    ]
    sim = simulate_bgnbd(N_CUSTOMERS, r=0.25, alpha=4.0, a=0.8, b=2.5, seed=11)
    c = sim.customers
    np.savez(
        tmp / "cbs.npz",
        x=c["frequency"].to_numpy(),
        tx=c["recency"].to_numpy(),
        T=c["T"].to_numpy(),
    )
    fit, wall, cpu = _timed(lambda: fit_bgnbd(sim))
    rows.append(
        {
            "case": "bgnbd_fit",
            "n": N_CUSTOMERS,
            "tool": "workbench",
            "median_s": wall,
            "cpu_s": cpu,
            "params": [round(float(v), 6) for v in fit.theta],
            "loglik": fit.loglik_,
        }
    )
    pred, wall, cpu = _timed(lambda: predict_customers(fit, sim, horizon=52, n_draws=0))
    rows.append(
        {
            "case": "predict",
            "n": N_CUSTOMERS,
            "tool": "workbench",
            "median_s": wall,
            "cpu_s": cpu,
            "sum_expected": float(pred.customers["expected_purchases"].sum()),
        }
    )
    return rows


PEER_CODE = r"""
import json, sys, time
import numpy as np, pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data
tmp = sys.argv[1]; case = sys.argv[2]
t0 = time.perf_counter(); c0 = time.process_time()
if case == "rfm_duckdb":
    df = pd.read_parquet(tmp + "/tx.parquet")
    t0 = time.perf_counter(); c0 = time.process_time()
    s = summary_data_from_transaction_data(df, "customer", "date", monetary_value_col="amount",
                                           observation_period_end="2023-06-30", freq="W")
    out = {"customers": int(len(s))}
else:
    d = np.load(tmp + "/cbs.npz")
    f = BetaGeoFitter()
    if case == "bgnbd_fit":
        t0 = time.perf_counter(); c0 = time.process_time()
        f.fit(d["x"], d["tx"], d["T"])
        out = {"params": [float(f.params_[k]) for k in ("r", "alpha", "a", "b")]}
    else:
        f.params_ = pd.Series(json.loads(sys.argv[3]), index=["r", "alpha", "a", "b"])
        t0 = time.perf_counter(); c0 = time.process_time()
        pa = f.conditional_probability_alive(d["x"], d["tx"], d["T"])
        ce = f.conditional_expected_number_of_purchases_up_to_time(52, d["x"], d["tx"], d["T"])
        out = {"sum_expected": float(np.sum(ce))}
out.update(median_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0)
print("@@RESULT@@" + json.dumps(out))
"""


def peer(tmp: Path, case: str, n: int, params=None) -> dict:
    py = os.environ.get("BENCH_LIFETIMES_PYTHON")
    row = {"case": case, "n": n, "tool": "lifetimes"}
    if not py:
        return {
            **row,
            "status": "skipped",
            "note": "lifetimes not installed: set BENCH_LIFETIMES_PYTHON to a "
            "python with lifetimes 0.11.3 (kept out of the project's dependencies)",
        }
    args = [py, "-c", PEER_CODE, str(tmp), case] + ([json.dumps(params)] if params else [])
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=PEER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {**row, "status": "timeout", "note": f"did not finish within {PEER_TIMEOUT:.0f} s"}
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("@@RESULT@@")), None)
    if p.returncode != 0 or line is None:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return {**row, "status": "error", "note": tail}
    return {**row, "status": "ok", **json.loads(line[len("@@RESULT@@") :])}


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="wb-purchases-") as name:
        tmp = Path(name)
        n_tx = make_transactions(tmp / "tx.parquet", N_CUSTOMERS)
        rows = [{**r, "status": "ok"} for r in ours(tmp, n_tx)]
        ours_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        fit_row = next(r for r in rows if r["case"] == "bgnbd_fit")
        for case, n in (("rfm_duckdb", n_tx), ("bgnbd_fit", N_CUSTOMERS), ("predict", N_CUSTOMERS)):
            rows.append(peer(tmp, case, n, fit_row["params"] if case == "predict" else None))
    for r in rows:
        if r["tool"] == "workbench":
            r["target_s"] = TARGETS[r["case"]]
            r["peak_mb"] = round(ours_peak)
            r["note"] = (
                f"target < {TARGETS[r['case']]:g} s: {'met' if r['median_s'] < TARGETS[r['case']] else 'MISSED'}"
            )
    ours_t = {r["case"]: r["median_s"] for r in rows if r["tool"] == "workbench"}
    for r in rows:
        if r["tool"] == "lifetimes" and r.get("status") == "ok":
            r["x_workbench"] = r["median_s"] / ours_t[r["case"]]
            if r["case"] == "bgnbd_fit":
                ref = np.array(fit_row["params"])
                r["note"] = (
                    f"max relative parameter difference vs workbench {np.max(np.abs(np.array(r['params']) / ref - 1)):.1e}"
                )
    return rows


def markdown(rows: list[dict]) -> str:
    head = "| case | n | tool | wall s | CPU s | x workbench | note |\n|---|---:|---|---:|---:|---:|---|\n"
    body = ""
    for r in rows:
        ok = r.get("status") == "ok"
        wall = f"{r['median_s']:.2f}" if ok else str(r.get("status"))
        cpu = f"{r['cpu_s']:.2f}" if ok else ""
        ratio = f"{r['x_workbench']:.1f}" if "x_workbench" in r else ""
        body += f"| {r['case']} | {r['n']:,} | {r['tool']} | {wall} | {cpu} | {ratio} | {r.get('note', '')} |\n"
    return head + body


if __name__ == "__main__":
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    result = run()
    md = markdown(result)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = (
        f"# Purchase histories benchmark\n\n{stamp}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"total {time.perf_counter() - t0:.0f} s; load average {load0:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (on a shared machine wall times stretch; CPU seconds are "
        f"the steadier measure). Command: `{' '.join(sys.argv)}`.\n\n" + md
    )
    (HERE / "purchases_results.md").write_text(text)
    print(text)
