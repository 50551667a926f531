"""Survival from aggregates on a generated Parquet customer table (issue 16, items 2 and 3).

Writes ``--rows`` customers (default 100,000,000) as Parquet part files in chunks (in a child
process, so the analysis' peak RSS is its own), then times, in this process, through
:mod:`workbench.aggregate`: the DuckDB cell counts (plan x region x tenure x churned), Kaplan-Meier
by the 3 plans, monthly churn rates per tenure month by plan (events / at risk, read from the
Kaplan-Meier table) and a Breslow Cox model of plan + region. The log-rank test is not timed: its
one home (``workbench.survival.kernels.logrank_parts``) has no frequency-weights argument yet (see
``workbench.aggregate.NOT_YET``).

Then checks, on a separate 1,000,000-row slice file, that every aggregated result equals the
row-level function on the same rows (max absolute difference).

Usage::

    python benchmarks/bench_aggregate.py --rows 20000000 [--chunk 5000000] [--folder DIR] [--keep]
        [--dask-workers 2]
        [--out-json benchmarks/aggregate_results.json] [--out-md docs/aggregate-benchmark.md]

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


def _monthly_rates(km_curves: pd.DataFrame) -> pd.DataFrame:
    """Churn rate per tenure month and plan: churned in the month / customers at risk at its start."""
    out = km_curves[["group", "time", "at_risk", "events"]].copy()
    out["churn_rate"] = out["events"] / out["at_risk"]
    return out


def _analyse(source, slice_rows: pd.DataFrame | None = None) -> dict:
    from workbench import aggregate as A

    out, timing = {}, {}
    t0, c0 = time.perf_counter(), _cpu()
    cells = A.counts(source, duration_col="tenure", event_col="churned", by=["plan", "region"])
    timing["counts"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    km = A.kaplan_meier(cells, group_col="plan")
    timing["kaplan_meier"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    rates = _monthly_rates(km.curves)
    timing["monthly_rates"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    cox = A.fit_cox(cells, covariates=["plan", "region"])
    timing["cox_breslow"] = time.perf_counter() - t1
    timing["total"] = time.perf_counter() - t0
    timing["cpu"] = _cpu() - c0
    out.update(cells=cells, km=km, rates=rates, cox=cox, timing=timing)
    return out


def _max_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    num = b.select_dtypes("number").columns
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    return float(np.nanmax(np.abs(a[num].to_numpy(float) - b[num].to_numpy(float))))


def _compare_slice(folder: Path) -> dict:
    from workbench.aggregate.synthetic import make_customers
    from workbench.survival import fit_cox, kaplan_meier

    df = make_customers(1_000_000, seed=99)
    path = folder / "slice.parquet"
    df.to_parquet(path, index=False)
    agg = _analyse(path)
    t0 = time.perf_counter()
    km = kaplan_meier(df, duration_col="tenure", event_col="churned", group_col="plan")
    t_km = time.perf_counter() - t0
    t0 = time.perf_counter()
    cox = fit_cox(
        df,
        duration_col="tenure",
        event_col="churned",
        covariates=["plan", "region"],
        ties="breslow",
    )
    t_cox = time.perf_counter() - t0
    cols = ["estimate", "se", "ci_lower", "ci_upper", "p_value"]
    diffs = {
        "kaplan_meier_curves": _max_diff(agg["km"].curves, km.curves),
        "kaplan_meier_summary": _max_diff(agg["km"].summary, km.summary),
        "monthly_rates": _max_diff(agg["rates"], _monthly_rates(km.curves)),
        "cox_breslow": float(
            np.max(np.abs(agg["cox"].summary[cols].to_numpy() - cox.summary[cols].to_numpy()))
        ),
    }
    path.unlink()
    return {
        "diffs": diffs,
        "aggregate_seconds": agg["timing"],
        "row_level_seconds": {"kaplan_meier": t_km, "cox_breslow": t_cox},
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
        cells = A.counts(
            dd.read_parquet(str(data)),
            duration_col="tenure",
            event_col="churned",
            by=["plan", "region"],
        )
        wall = time.perf_counter() - t0
    got = cells.cells.astype({"plan": str, "region": str})
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
        check = _compare_slice(folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    load1 = os.getloadavg()
    km = big["km"].summary[["group", "n", "events", "median"]].to_dict("records")
    result = {
        "case": f"aggregate km3+monthly-rates+cox-breslow {args.rows:,} rows (duckdb)",
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
        "| step | wall s |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in s.items() if k != "cpu"],
        "",
        f"CPU seconds (user + system, this process incl. DuckDB threads): {s['cpu']}; "
        f"peak RSS: {r['peak_rss_mb']} MB.",
        "",
        "Row-level agreement on a separate 1,000,000-row slice (max absolute difference):",
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
        "Not timed: the log-rank test (its one home, `kernels.logrank_parts`, has no "
        "frequency-weights argument yet).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
