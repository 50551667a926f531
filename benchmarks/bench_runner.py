"""Runner overhead: per-run cost of a trivial notebook, and batch speed-up with 2 workers.

Cases (targets from issue 3):

``run_overhead``     one trivial notebook through :func:`workbench.runner.run_notebook`: child
                     process, kernel start, parameter injection, execution, HTML export, manifest
                     (median of 3; target < 6 s). ``execute_s`` (child process and kernel) and
                     ``export_s`` (report + manifest) split the total.
``batch_workers_1``  8 trivial runs (a grid ``x: 1..8``), ``--workers 1``
``batch_workers_2``  the same, ``--workers 2`` (target: at least 1.6x faster than 1 worker)

``run()`` returns one dict per case: {case, n, tool, seconds, median_s, peak_mb, note, ...};
``python benchmarks/bench_runner.py`` prints them as a table. Everything is written to a temporary
folder (never to reports/).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRIVIAL = HERE.parent / "tests" / "runner" / "notebooks" / "trivial.ipynb"
TOOL = "workbench"


def _cpu_s() -> float:
    """User + system CPU seconds of this process and every waited-for descendant."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def _peak_children_mb() -> float:
    # ru_maxrss of the largest waited-for descendant (KiB on Linux)
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def run_overhead(tmp: Path, repeats: int = 3) -> dict:
    from workbench.runner import run_notebook

    totals, execs = [], []
    cpu0 = _cpu_s()
    for i in range(repeats):
        t0 = time.perf_counter()
        outcome = run_notebook(
            TRIVIAL, {"x": i}, out=tmp / "overhead", run_name=f"r{i}", timeout=300
        )
        totals.append(time.perf_counter() - t0)
        if not outcome.ok:
            raise RuntimeError(f"trivial run failed: {outcome.manifest.get('error')}")
        execs.append(outcome.duration_s)
    cpu = (_cpu_s() - cpu0) / repeats
    med = statistics.median(totals)
    med_exec = statistics.median(execs)
    return {
        "case": "run_overhead",
        "n": 1,
        "tool": TOOL,
        "status": "ok",
        "seconds": round(med, 2),
        "median_s": round(med, 2),
        "runs": repeats,
        "execute_s": round(med_exec, 2),
        "cpu_s_per_run": round(cpu, 2),
        "export_s": round(med - med_exec, 2),
        "peak_mb": round(_peak_children_mb(), 1),
        "note": f"trivial notebook, median of {repeats}; child+kernel+execution {med_exec:.2f} s, "
        f"report+manifest {med - med_exec:.2f} s; CPU {cpu:.2f} s per run (all processes); "
        f"target < 6 s ({'met' if med < 6 else 'NOT met'}); {_load()}",
    }


def batch_runs(tmp: Path, workers: int, n: int = 8) -> dict:
    from workbench.runner import run_batch

    batch = tmp / f"bench{workers}.yml"
    batch.write_text(f"name: bench\nnotebooks: {TRIVIAL}\ngrid:\n  x: {list(range(1, n + 1))}\n")
    t0 = time.perf_counter()
    result = run_batch(
        batch,
        workers=workers,
        out=tmp / f"batch{workers}",
        force=True,
        progress=False,
        build_index=False,
    )
    wall = time.perf_counter() - t0
    ok = sum(o.ok for o in result.outcomes)
    return {
        "case": f"batch_workers_{workers}",
        "n": n,
        "tool": TOOL,
        "status": "ok" if ok == n else "error",
        "seconds": round(wall, 2),
        "median_s": round(wall, 2),
        "runs": 1,
        "peak_mb": round(_peak_children_mb(), 1),
        "note": f"{n} trivial runs, {ok} ok, --workers {workers}",
    }


def run() -> list[dict]:
    """Run every case; return the rows (see module docstring)."""
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    with tempfile.TemporaryDirectory(prefix="bench-runner-") as d:
        tmp = Path(d)
        rows = [run_overhead(tmp)]
        one = batch_runs(tmp, 1)
        two = batch_runs(tmp, 2)
        speedup = one["seconds"] / two["seconds"] if two["seconds"] else float("nan")
        two["speedup_vs_1"] = round(speedup, 2)
        two["note"] += (
            f"; {speedup:.2f}x faster than 1 worker, {_load()} (target >= 1.6x: "
            f"{'met' if speedup >= 1.6 else 'NOT met'}; {os.cpu_count()} CPUs)"
        )
        rows += [one, two]
    return rows


def main() -> int:
    rows = run()
    print(f"{'case':<18} {'n':>3} {'seconds':>8} {'peak MB':>8}  note")
    for r in rows:
        print(f"{r['case']:<18} {r['n']:>3} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f}  {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
