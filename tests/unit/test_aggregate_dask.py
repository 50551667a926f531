"""workbench.aggregate on a Dask DataFrame: same cells and estimates as the DuckDB path on the same
files, on a LocalCluster with two worker processes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import aggregate as A
from workbench.aggregate.synthetic import make_customers
from workbench.exceptions import (
    ColumnNotFoundError,
    ColumnTypeError,
    EventCodingError,
    RowsExcludedWarning,
)

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


N = 60_000


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A Parquet folder of four part files (a partitioned table)."""
    df = make_customers(N, seed=11)
    out = tmp_path_factory.mktemp("agg_dask") / "customers"
    out.mkdir()
    for i, part in enumerate(np.array_split(np.arange(N), 4)):
        df.iloc[part].to_parquet(out / f"part-{i}.parquet", index=False)
    return out


@pytest.mark.slow
def test_local_cluster_two_worker_processes_equals_duckdb(folder):
    duck = A.counts(folder, duration_col="tenure", event_col="churned", by=["plan", "region"])
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        ddf = dd.read_parquet(str(folder))
        assert ddf.npartitions >= 2
        dsk = A.counts(ddf, duration_col="tenure", event_col="churned", by=["plan", "region"])
    assert dsk.engine == "dask" and duck.engine == "duckdb"
    assert dsk.n == duck.n == N and dsk.events == duck.events
    cells_d = dsk.cells.astype({"plan": str, "region": str})
    pd.testing.assert_frame_equal(cells_d, duck.cells, check_dtype=False)
    km_d = A.kaplan_meier(dsk, group_col="plan")
    km_k = A.kaplan_meier(duck, group_col="plan")
    pd.testing.assert_frame_equal(km_d.curves, km_k.curves, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(km_d.summary, km_k.summary, rtol=0, atol=1e-12)
    cox_d = A.fit_cox(dsk, covariates=["plan", "region"])
    cox_k = A.fit_cox(duck, covariates=["plan", "region"])
    np.testing.assert_allclose(cox_d.summary["estimate"], cox_k.summary["estimate"], atol=1e-10)


def test_dask_refusals_and_exclusions():
    pdf = pd.DataFrame(
        {"tenure": [1.0, 2.0, np.nan, 4.0], "churned": [1, 0, 1, 0], "txt": ["a"] * 4}
    )
    ddf = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(ColumnNotFoundError, match=r"\['plan'\]"):
        A.counts(ddf, duration_col="tenure", event_col="churned", by="plan")
    with pytest.raises(ColumnTypeError, match="`duration_col`='txt' must be numeric"):
        A.counts(ddf, duration_col="txt", event_col="churned")
    bad = dd.from_pandas(pdf.assign(churned=[1, 0, 1, 3]), npartitions=2)
    with pytest.raises(EventCodingError, match=r"1 value\(s\) other than 0/1 \(e.g. 3"):
        A.counts(bad, duration_col="tenure", event_col="churned")
    with pytest.warns(RowsExcludedWarning, match="1 of 4 rows"):
        c = A.counts(ddf, duration_col="tenure", event_col="churned")
    assert c.n == 3 and c.events == 1


@pytest.mark.slow
def test_real_scheduler_and_worker_processes(folder, tmp_path):
    """`dask scheduler` + `dask worker` started as programs (what a cluster runs), same numbers."""
    import subprocess
    import sys
    from pathlib import Path

    dask_cli = Path(sys.executable).with_name("dask")
    if not dask_cli.exists():
        pytest.skip("the `dask` command is not installed next to this Python")
    sched_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard", "--scheduler-file", str(sched_file)]
    procs = [subprocess.Popen([str(dask_cli), "scheduler", "--port", "0", *common])]
    try:
        client = distributed.Client(scheduler_file=str(sched_file), timeout=30)
        procs.append(
            subprocess.Popen(
                [str(dask_cli), "worker", "--nworkers", "2", "--nthreads", "1", *common]
            )
        )
        with client:
            client.wait_for_workers(2, timeout=60)
            dsk = A.counts(
                dd.read_parquet(str(folder)), duration_col="tenure", event_col="churned", by="plan"
            )
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    duck = A.counts(folder, duration_col="tenure", event_col="churned", by="plan")
    assert dsk.n == duck.n == N
    pd.testing.assert_frame_equal(dsk.cells.astype({"plan": str}), duck.cells, check_dtype=False)
