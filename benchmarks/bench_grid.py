"""A 200-run grid on the local pool and on a real Dask cluster: throughput and per-run overhead.

``python benchmarks/bench_grid.py [--executor local,dask] [--workers 2] [--batch batches/grid.yml]
[--out DIR] [--json results.json]``

``batches/grid.yml`` is notebook 02 (tenure survival) for 4 segment columns x 5 horizons x 10 data
sets (the IBM Telco release and nine simulated bases of 2,000-5,000 customers). Each executor runs
the whole grid with ``workbench batch ... --force`` into ``<out>/<executor>/``:

``local``  the batch's own process pool (``--workers N``)
``dask``   a real cluster started here: one ``dask scheduler`` and N ``dask worker --nthreads 1``
           processes on this machine, the batch connected with ``--executor dask --scheduler``

Printed per executor: wall time, runs per minute, CPU seconds of every process involved (this
script is a child subreaper, so orphaned kernels and templates are counted too), the machine's
load before, during (mean of 5 s samples) and after, and per run the phases of
``runner_breakdown.breakdown`` (papermill start, kernel start, imports, data, analysis, saves,
shutdown, report; ``overhead`` is all but data and analysis). It checks that the batch's
``summary.html`` names every run. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from runner_breakdown import PHASES, breakdown  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _reap() -> None:
    """Wait for every exited descendant (orphans come to this subreaper), so their CPU counts."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class _LoadSampler:
    def __init__(self, every: float = 5.0):
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(workers: int, env: dict) -> tuple[str, list[subprocess.Popen]]:
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    logs = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **logs,
        )
    ]
    procs += [
        subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--no-dashboard"], **logs)
        for _ in range(workers)
    ]
    from dask.distributed import Client

    end = time.monotonic() + 120
    while True:  # wait until every worker has registered
        try:
            with Client(addr, timeout=5) as c:
                c.wait_for_workers(workers, timeout=max(end - time.monotonic(), 1))
            return addr, procs
        except (OSError, TimeoutError):
            if time.monotonic() > end:
                _stop(procs)
                raise RuntimeError(f"the Dask cluster at {addr} did not start") from None
            time.sleep(1)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):  # workers first, then the scheduler
        p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)


def run_executor(executor: str, batch: Path, workers: int, out: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    cmd = [sys.executable, "-m", "workbench.cli", "batch", str(batch), "--out", str(out)]
    cmd += ["--workers", str(workers), "--quiet", "--force"]
    cluster: list[subprocess.Popen] = []
    if executor == "dask":
        addr, cluster = _start_cluster(workers, env)
        cmd += ["--executor", "dask", "--scheduler", addr]
    _reap()
    cpu0, load0 = _cpu_children(), os.getloadavg()[0]
    t0 = time.perf_counter()
    with _LoadSampler() as loads:
        proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if cluster:
        _stop(cluster)  # their CPU is counted once they have exited
    _reap()
    cpu = _cpu_children() - cpu0
    manifests = sorted(out.glob("*/*/manifest.json"))
    runs, status = [], {}
    for m in manifests:
        man = json.loads(m.read_text())
        status[man.get("status")] = status.get(man.get("status"), 0) + 1
        if man.get("status") == "ok" and man.get("timings", {}).get("spawned_at"):
            runs.append(breakdown(m.parent))
    n = len(manifests)
    summaries = list(out.glob("*/summary.html"))
    listed = None
    if summaries:
        html = summaries[0].read_text(encoding="utf-8")
        listed = sum(m.parent.name in html for m in manifests)
    phases = {
        k: round(statistics.fmean(r[k] for r in runs), 2) if runs else None
        for k in (*PHASES, "overhead", "total")
    }
    return {
        "executor": executor,
        "workers": workers,
        "runs": n,
        "status": status,
        "exit_code": proc.returncode,
        "stderr_tail": proc.stderr[-600:],
        "wall_s": round(wall, 1),
        "runs_per_min": round(n / wall * 60, 1) if wall else None,
        "cpu_s": round(cpu, 1),
        "cpu_s_per_run": round(cpu / n, 2) if n else None,
        "load_before": round(load0, 2),
        "load_mean": round(statistics.fmean(loads.samples), 2) if loads.samples else None,
        "load_after": round(os.getloadavg()[0], 2),
        "mean_phases_s": phases,
        "overhead_median_s": round(statistics.median(r["overhead"] for r in runs), 2)
        if runs
        else None,
        "summary": str(summaries[0]) if summaries else None,
        "summary_lists": listed,
        "cpus": os.cpu_count(),
    }


def table(rows: list[dict]) -> str:
    cols = ("papermill", "kernel", "imports", "saves", "shutdown", "report", "overhead")
    head = (
        "| executor | runs | ok | wall s | runs/min | CPU s/run | load before/mean/after | "
        + " | ".join(cols)
        + " | summary lists |"
    )
    lines = [head, "|---" * (8 + len(cols)) + "|"]
    for r in rows:
        p = r["mean_phases_s"]
        lines.append(
            f"| {r['executor']} ({r['workers']} workers) | {r['runs']} | {r['status'].get('ok', 0)} "
            f"| {r['wall_s']} | {r['runs_per_min']} | {r['cpu_s_per_run']} | "
            f"{r['load_before']} / {r['load_mean']} / {r['load_after']} | "
            + " | ".join(f"{p[c]:.2f}" if p[c] is not None else "-" for c in cols)
            + f" | {r['summary_lists']} of {r['runs']} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--executor", default="local,dask")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", default=str(ROOT / "batches" / "grid.yml"))
    ap.add_argument("--out", default=None, help="keep the reports here (default: a temp folder)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    base = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="bench-grid-"))
    rows = []
    for ex in a.executor.split(","):
        rows.append(run_executor(ex, Path(a.batch).resolve(), a.workers, base / ex))
        print(json.dumps(rows[-1], indent=1), flush=True)
    print(table(rows))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["exit_code"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
