"""Where a run's time goes: the default batch with cold and with warm kernels, per run and phase.

``python benchmarks/runner_breakdown.py [--workers 2] [--mode cold,warm] [--json out.json]``

Each mode runs ``batches/default.yml`` (7 notebooks on the built-in data) into a temporary folder
with ``--workers 2``; ``cold`` sets ``WORKBENCH_COLD_KERNELS=1`` (every kernel a fresh
``python -m ipykernel_launcher``, as before warm kernels), ``warm`` forks each kernel from the
worker's pre-imported template (:mod:`workbench.runner._warm`). Phases come from the runner's
``manifest.json`` ``timings`` (epoch seconds when the papermill process was spawned and exited,
the report's export time) and papermill's own timestamps in the executed notebook (start, each
cell's start and duration):

``papermill``   spawn of the papermill process to papermill's start (Python + papermill imports)
``kernel``      papermill's start to the first cell's start (kernel start and connection)
``imports``     the notebook's import cell (workbench, pandas, scipy, statsmodels, lifelines, ...)
``data``        the cell that loads the data set (``load_dataset`` / ``simulate_*``)
``analysis``    every other cell: the notebook's own work
``saves``       gaps between cells (papermill writes the notebook at each cell's start and end)
``shutdown``    the last cell's end to the papermill process's exit (kernel shutdown, notebook write)
``report``      HTML export (nbconvert), scrubbing, manifest
``overhead``    everything except ``data`` and ``analysis``

The batch wall time and ``uptime``'s load are printed with each mode.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("papermill", "kernel", "imports", "data", "analysis", "saves", "shutdown", "report")
_IMPORT = re.compile(r"^\s*(import |from \S+ import )")
_DATA = re.compile(r"load_dataset\(|simulate_\w*\(|snapshot\(")


def _epoch(iso: str) -> float:
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def _is_import_cell(src: str) -> bool:
    lines = [ln for ln in src.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return bool(lines) and all(_IMPORT.match(ln) or ln.startswith((" ", ")")) for ln in lines)


def breakdown(run_dir: Path) -> dict:
    """Seconds per phase of one finished run (see module docstring)."""
    m = json.loads((run_dir / "manifest.json").read_text())
    nb = json.loads((run_dir / "notebook.ipynb").read_text())
    t = m["timings"]
    pm = nb["metadata"]["papermill"]
    cells = [
        (c["metadata"].get("papermill") or {}, "".join(c["source"]))
        for c in nb["cells"]
        if c["cell_type"] == "code"
    ]
    timed = [(p, s) for p, s in cells if p.get("start_time") and p.get("duration") is not None]
    out = dict.fromkeys(PHASES, 0.0)
    out["papermill"] = _epoch(pm["start_time"]) - t["spawned_at"]
    out["kernel"] = _epoch(timed[0][0]["start_time"]) - _epoch(pm["start_time"])
    data_seen = False
    for p, src in timed:
        if _is_import_cell(src):
            out["imports"] += p["duration"]
        elif not data_seen and _DATA.search(src):
            out["data"] += p["duration"]
            data_seen = True
        else:
            out["analysis"] += p["duration"]
    last = timed[-1][0]
    span = _epoch(last["start_time"]) + last["duration"] - _epoch(timed[0][0]["start_time"])
    out["saves"] = span - sum(p["duration"] for p, _ in timed)  # papermill saving between cells
    out["shutdown"] = t["exited_at"] - (_epoch(last["start_time"]) + last["duration"])
    out["report"] = t["report_s"]
    out["overhead"] = sum(out[k] for k in PHASES if k not in ("data", "analysis"))
    out["total"] = out["overhead"] + out["data"] + out["analysis"]
    return {k: round(v, 2) for k, v in out.items()}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def run_mode(mode: str, workers: int, batch: str = "batches/default.yml") -> dict:
    out = Path(tempfile.mkdtemp(prefix=f"breakdown-{mode}-"))
    env = dict(os.environ)
    env.pop("WORKBENCH_COLD_KERNELS", None)
    if mode == "cold":
        env["WORKBENCH_COLD_KERNELS"] = "1"
    before = uptime()
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "workbench.cli", "batch", str(ROOT / batch)]
    cmd += ["--workers", str(workers), "--out", str(out), "--quiet", "--force"]
    subprocess.run(cmd, env=env, check=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    runs = {}
    for man in sorted(out.glob("*/*/manifest.json")):
        runs[man.parent.parent.name] = breakdown(man.parent)
    return {
        "mode": mode,
        "wall_s": round(wall, 1),
        "uptime_before": before,
        "uptime": uptime(),
        "runs": runs,
        "out": str(out),
    }


def table(res: dict) -> str:
    cols = (*PHASES, "overhead", "total")
    lines = [
        f"{res['mode']}: batch wall {res['wall_s']} s ({res['uptime']})",
        "| run | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for name, b in res["runs"].items():
        lines.append(f"| {name} | " + " | ".join(f"{b[c]:.2f}" for c in cols) + " |")
    n = len(res["runs"]) or 1
    mean = {c: sum(b[c] for b in res["runs"].values()) / n for c in cols}
    lines.append("| **mean** | " + " | ".join(f"{mean[c]:.2f}" for c in cols) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mode", default="cold,warm")
    ap.add_argument("--batch", default="batches/default.yml")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    results = [run_mode(m, a.workers, a.batch) for m in a.mode.split(",")]
    for r in results:
        print(table(r), "\n")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
