"""Survival from aggregates on a generated Parquet customer table (issue 16, items 2 and 3).

Writes ``--rows`` customers (default 100,000,000) as Parquet part files in chunks (in a child
process, so the analysis' peak RSS is its own), then times, in this process, through
:mod:`workbench.aggregate`: the DuckDB cell counts (plan x region x joining month x tenure x
churned), Kaplan-Meier by the 3 plans, the log-rank test of the plans, monthly churn / retention
rates (calendar months, ``retention.period_rates``: churned in the month / active at its start)
and a Breslow Cox model of plan + region. The issue's target is on counts + Kaplan-Meier + log-rank
+ monthly rates (``required``): under 60 s and peak RSS under 1.5 GB.

Then checks, on a separate 1,000,000-row slice file, that every aggregated result equals the
row-level function on the same rows (max absolute difference): the timed ones, plus the stratified
log-rank, the life table, the cohort table, the cumulative incidence by cause and Cox with Efron
ties.

Usage::

    python benchmarks/bench_aggregate.py --rows 20000000 [--chunk 5000000] [--folder DIR] [--keep]
        [--dask-workers 2]
        [--out-json benchmarks/aggregate_results.json] [--out-md docs/aggregate-benchmark.md]

For ``make bench``: :func:`aggregate_cases` runs the same and returns rows in the format of
``benchmarks/results.json`` (``case`` names start with ``aggregate``).

The data are not committed; the folder is deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _write(folder: str, rows: int, chunk: int) -> None:
    from workbench.aggregate.synthetic import write_parquet

    write_parquet(folder, rows, chunk=chunk, seed=7)


BY = ["plan", "region", "start_month"]
ROWS = {"duration_col": "tenure", "event_col": "churned"}


def _analyse(source) -> dict:
    from workbench import aggregate as A

    out, timing = {}, {}
    t0, c0 = time.perf_counter(), _cpu()
    cells = A.counts(source, by=BY, **ROWS)
    timing["counts"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    km = A.kaplan_meier(cells, group_col="plan")
    timing["kaplan_meier"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    lr = A.logrank_test(cells, group_col="plan")
    timing["logrank"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    rates = A.period_rates(cells, start_col="start_month", period="month")
    timing["monthly_rates"] = time.perf_counter() - t1
    timing["required"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    cox = A.fit_cox(cells, covariates=["plan", "region"])
    timing["cox_breslow"] = time.perf_counter() - t1
    timing["total"] = time.perf_counter() - t0
    timing["cpu"] = _cpu() - c0
    out.update(cells=cells, km=km, logrank=lr, rates=rates, cox=cox, timing=timing)
    return out


def _max_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Max absolute difference of the numeric columns (the other columns must be equal)."""
    num = b.select_dtypes("number").columns
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    other = [c for c in b.columns if c not in num]
    assert (a[other].astype(str).to_numpy() == b[other].astype(str).to_numpy()).all()
    x, y = a[num].to_numpy(float), b[num].to_numpy(float)
    assert (np.isnan(x) == np.isnan(y)).all()
    return float(np.nanmax(np.abs(x - y), initial=0.0))


def _compare_slice(folder: Path, n: int = 1_000_000) -> dict:
    """Every aggregated result against the row-level function on the same ``n`` rows."""
    from workbench import aggregate as A
    from workbench import retention as R
    from workbench import survival as S
    from workbench.aggregate.synthetic import make_customers

    df = make_customers(n, seed=99)
    rng = np.random.default_rng(99)
    causes = rng.choice(["price", "service", "move"], len(df), p=[0.5, 0.3, 0.2])
    df["cause"] = np.where(df["churned"] == 1, causes, None)
    path = folder / "slice.parquet"
    df.to_parquet(path, index=False)
    agg = _analyse(path)
    cells = agg["cells"]
    cause_cells = A.counts(path, by=["plan"], cause_col="cause", **ROWS)
    t0 = time.perf_counter()
    km = S.kaplan_meier(df, group_col="plan", **ROWS)
    lr = S.logrank_test(df, group_col="plan", **ROWS)
    rates = R.period_rates(df, start_col="start_month", period="month", **ROWS)
    t_required = time.perf_counter() - t0
    cox_kw = dict(covariates=["plan", "region"], **ROWS)
    t0 = time.perf_counter()
    cox = S.fit_cox(df, ties="breslow", **cox_kw)
    t_cox = time.perf_counter() - t0
    stat = ["statistic", "df", "p_value"]
    cols = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
    pairs = {
        "kaplan_meier_curves": (agg["km"].curves, km.curves),
        "kaplan_meier_summary": (agg["km"].summary, km.summary),
        "logrank": (agg["logrank"].summary[stat], lr.summary[stat]),
        "logrank_groups": (agg["logrank"].groups, lr.groups),
        "monthly_rates": (agg["rates"].summary, rates.summary),
        "cox_breslow": (agg["cox"].summary[cols], cox.summary[cols]),
        "logrank_stratified": (
            A.logrank_test(cells, group_col="plan", strata="region").summary[stat],
            S.logrank_test(df, group_col="plan", strata="region", **ROWS).summary[stat],
        ),
        "life_table": (
            A.lifecycle_rates(cells, group_col="plan").summary,
            R.lifecycle_rates(df, group_col="plan", **ROWS).summary,
        ),
        "cohort_table": (
            A.cohort_table(cells, start_col="start_month").summary,
            R.cohort_table(df, start_col="start_month", **ROWS).summary,
        ),
        "cumulative_incidence": (
            A.cumulative_incidence(cause_cells, group_col="plan").curves,
            S.cumulative_incidence(df, group_col="plan", cause_col="cause", **ROWS).curves,
        ),
        "cox_efron": (
            A.fit_cox(cells, ties="efron", covariates=["plan", "region"]).summary[cols],
            S.fit_cox(df, ties="efron", **cox_kw).summary[cols],
        ),
    }
    diffs = {k: _max_diff(a, b) for k, (a, b) in pairs.items()}
    path.unlink()
    return {
        "diffs": diffs,
        "aggregate_seconds": agg["timing"],
        "row_level_seconds": {"km+logrank+monthly_rates": t_required, "cox_breslow": t_cox},
    }


def _dask_counts(data: Path, workers: int, duck_cells) -> dict:
    """The same counts with dask.dataframe on a LocalCluster of ``workers`` worker processes."""
    import dask.dataframe as dd
    import distributed

    from workbench import aggregate as A

    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        t0 = time.perf_counter()
        cells = A.counts(dd.read_parquet(str(data)), by=BY, **ROWS)
        wall = time.perf_counter() - t0
    got = cells.cells.astype({"plan": str, "region": str, "start_month": "datetime64[ns]"})
    same = bool(
        got.shape == duck_cells.cells.shape
        and (got.to_numpy() == duck_cells.cells.to_numpy()).all()
    )
    return {"workers": workers, "counts_seconds": round(wall, 3), "cells_equal_duckdb": same}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--chunk", type=int, default=5_000_000)
    ap.add_argument("--folder", default=None, help="where to write the Parquet parts (temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument(
        "--dask-workers",
        type=int,
        default=0,
        help="also count with dask.dataframe on a LocalCluster of this many worker processes",
    )
    ap.add_argument("--slice-rows", type=int, default=1_000_000, help="rows of the agreement slice")
    ap.add_argument("--out-json", default=None)
    ap.add_argument("--out-md", default=None)
    args = ap.parse_args(argv)

    import workbench.aggregate  # noqa: F401  imports are not part of the timings
    import workbench.survival  # noqa: F401

    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench_aggregate_"))
    data = folder / "customers"
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=_write, args=(str(data), args.rows, args.chunk))
    p.start()
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"writing the table failed (exit code {p.exitcode})")
    t_write = time.perf_counter() - t0
    size_mb = sum(f.stat().st_size for f in data.glob("*.parquet")) / 2**20
    try:
        big = _analyse(data)
        rss_big = _peak_rss_mb()
        dask_run = (
            _dask_counts(data, args.dask_workers, big["cells"]) if args.dask_workers else None
        )
        check = _compare_slice(folder, args.slice_rows)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    load1 = os.getloadavg()
    km = big["km"].summary[["group", "n", "events", "median"]].to_dict("records")
    result = {
        "case": f"aggregate km3+logrank+monthly-rates {args.rows:,} rows (duckdb)",
        "rows": args.rows,
        "cells": int(len(big["cells"].cells)),
        "parquet_mb": round(size_mb, 1),
        "write_seconds": round(t_write, 1),
        "seconds": {k: round(v, 3) for k, v in big["timing"].items()},
        "peak_rss_mb": round(rss_big, 1),
        "load_average_before": [round(x, 2) for x in load0],
        "load_average_after": [round(x, 2) for x in load1],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "km_by_plan": km,
        "logrank": big["logrank"].summary[["statistic", "df", "p_value"]].to_dict("records"),
        "targets": {
            "required_under_60_s": big["timing"]["required"] < 60,
            "peak_rss_under_1536_mb": rss_big < 1536,
            "slice_equal_to_1e-10": max(check["diffs"].values()) <= 1e-10,
        },
        "slice_rows": args.slice_rows,
        "slice_1m": check,
        "dask": dask_run,
    }
    print(json.dumps(result, indent=2, default=str))
    if args.out_json:
        Path(args.out_json).write_text(json.dumps(result, indent=2, default=str) + "\n")
    if args.out_md:
        Path(args.out_md).write_text(_markdown(result))
    return result


def _markdown(r: dict) -> str:
    s = r["seconds"]
    lines = [
        "# Survival from aggregates: benchmark",
        "",
        "Produced by `python benchmarks/bench_aggregate.py --rows "
        f"{r['rows']}{' --dask-workers ' + str(r['dask']['workers']) if r.get('dask') else ''}` "
        "(one run; 2-core machine shared with other jobs).",
        "",
        f"- Table: {r['rows']:,} customers, {r['parquet_mb']} MB of Parquet, written in "
        f"{r['write_seconds']} s (not part of the timings); {r['cells']:,} cells after counting.",
        f"- Load average (1, 5, 15 min) before: {r['load_average_before']}, after: "
        f"{r['load_average_after']}; {r['cpu_count']} CPUs.",
        "",
        "| step (`required` = counts + kaplan_meier + logrank + monthly_rates) | wall s |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in s.items() if k != "cpu"],
        "",
        f"CPU seconds (user + system, this process incl. DuckDB threads): {s['cpu']}; "
        f"peak RSS: {r['peak_rss_mb']} MB.",
        "",
        f"Row-level agreement on a separate {r['slice_rows']:,}-row slice (max absolute difference):",
        "",
        "| result | max abs diff |",
        "|---|---|",
        *[f"| {k} | {v:.3g} |" for k, v in r["slice_1m"]["diffs"].items()],
        "",
        *(
            [
                f"Dask path: the same counts with `dask.dataframe.read_parquet` on a LocalCluster "
                f"of {r['dask']['workers']} worker processes took {r['dask']['counts_seconds']} s; "
                f"cells identical to DuckDB's: {r['dask']['cells_equal_duckdb']}.",
                "",
            ]
            if r.get("dask")
            else []
        ),
        f"Targets (issue 16): counts + Kaplan-Meier + log-rank + monthly rates "
        f"({s['required']} s) under 60 s: {r['targets']['required_under_60_s']}; peak RSS under "
        f"1.5 GB: {r['targets']['peak_rss_under_1536_mb']}; every slice difference <= 1e-10: "
        f"{r['targets']['slice_equal_to_1e-10']}.",
        "",
    ]
    return "\n".join(lines)


def aggregate_cases(
    rows: int = 100_000_000,
    *,
    dask_workers: int = 0,
    chunk: int = 5_000_000,
    slice_rows: int = 1_000_000,
) -> list[dict]:
    """Run the benchmark and return its rows in the format of ``benchmarks/results.json``.

    One row per timed step on the ``rows``-row table (``case`` = ``aggregate <step>``, ``tool`` =
    "workbench aggregate (duckdb)", ``n`` = rows, ``median_s``, ``cpu_s`` (the whole analysis),
    ``peak_mb``), one row ``aggregate required (counts+km+logrank+monthly rates)`` carrying the
    targets, and one row per slice agreement check (``aggregate agreement <result>``, ``check`` =
    max abs difference against the row-level function on 1,000,000 rows). For ``make bench``.
    """
    r = main(
        ["--rows", str(rows), "--chunk", str(chunk), "--dask-workers", str(dask_workers)]
        + ["--slice-rows", str(slice_rows)]
    )
    base = {"n": rows, "tool": "workbench aggregate (duckdb)", "status": "ok", "runs": 1}
    note = (
        f"{r['cells']:,} cells from a {r['parquet_mb']} MB Parquet table; load "
        f"{r['load_average_before']} -> {r['load_average_after']}"
    )
    out = []
    for step, sec in r["seconds"].items():
        if step == "cpu":
            continue
        row = {**base, "case": f"aggregate {step}", "median_s": sec, "times": [sec]}
        row.update(cpu_s=r["seconds"]["cpu"], peak_mb=r["peak_rss_mb"], check=None, note=note)
        if step == "required":
            row["case"] = "aggregate required (counts+km+logrank+monthly rates)"
            row["targets"] = r["targets"]
        out.append(row)
    for name, diff in r["slice_1m"]["diffs"].items():
        out.append(
            {
                **base,
                "n": r["slice_rows"],
                "case": f"aggregate agreement {name}",
                "median_s": None,
                "check": diff,
                "note": "max abs difference, aggregated vs row-level function, same rows",
            }
        )
    if r.get("dask"):
        d = r["dask"]
        out.append(
            {
                **base,
                "case": "aggregate counts (dask LocalCluster)",
                "tool": f"workbench aggregate (dask, {d['workers']} workers)",
                "median_s": d["counts_seconds"],
                "times": [d["counts_seconds"]],
                "check": d["cells_equal_duckdb"],
                "note": "cells equal to DuckDB's",
            }
        )
    return out


if __name__ == "__main__":
    main()
