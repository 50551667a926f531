"""``make bench``: the workbench against its peers on the same simulated customers, in one run.

Usage: ``.venv/bin/python benchmarks/run.py`` (``BENCH_QUICK=1``: the 100,000-customer cases only;
``BENCH_CASES=cox_days,km_logrank``: only those cases; ``BENCH_OUT=dir``: write the results
there instead). Writes ``benchmarks/results.json`` and ``benchmarks/results.md`` and prints the
table.

Every (case, size, tool) runs in a fresh worker process (``benchmarks/_cases.py``, or
``benchmarks/r_worker.R`` for R's ``survival``), so its peak memory (``ru_maxrss`` of that process,
from ``os.wait4``) is its own. Loading the data is not timed; a timed run is one model call.
Repeats: median of 3; a first run slower than 10 s is not repeated, and peers run once at
1,000,000 customers (the table's ``runs`` column says how many). The work is done by priority so
that the whole run ends within ``BENCH_BUDGET`` seconds (default 780, so that ``make bench`` stays
under 15 minutes with its set-up): the data, every workbench case, the default batch and R's
``coxph`` first; then lifelines (as it comes and on the engine) and R's Kaplan-Meier; then
statsmodels and scikit-survival at 100,000, then at 1,000,000; lifelines on continuous tenure at
1,000,000 (minutes) comes last. A peer whose 100,000 run predicts more than 300 s at 1,000,000,
a peer that is not installed, and a run that
no longer fits the budget are listed as skipped with the reason, never dropped.

Cases (10 covariates; tenure in days, about 2,200 distinct values, or continuous = days minus a
uniform fraction, no ties):

* ``simulate``: ``workbench.data.simulate`` (target at 1M: < 20 s, < 2 GB); it also produces the data;
* ``cox_days``, ``cox_continuous``: Cox fit, Efron ties;
* ``km_logrank``: Kaplan-Meier curves by a 4-level group and the log-rank test;
* ``predict_survival``: survival of every customer on a grid of 25 times (target < 2 GB at 1M);
* ``validate``: ``workbench.data.validate`` of the raw customer frame (target at 1M: < 5 s);
* ``ipw_bootstrap``: IPW-adjusted survival curves with 200 bootstrap replicates (100,000 only);
* ``batch``: ``workbench batch batches/default.yml`` end to end into a temporary reports folder.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
SEED = 2026
WORKER_TIMEOUT = 420.0  # seconds per (case, size, tool) process
PEER_BUDGET = 300.0  # a peer runs at 1M only if 12 x its 100k time fits in this
WB = "workbench"
WB_FIT_COX = "workbench fit_cox"  # what notebooks call (design, fit, concordance, baseline)
WB_FIT_COX_PH = "workbench fit_cox + ph_test"  # ... and the proportional-hazards test
PEERS_COX = [
    "workbench (lifelines API)",
    "lifelines",
    "statsmodels",
    "scikit-survival",
    "R survival",
]
PEERS_KM = ["lifelines", "statsmodels", "scikit-survival", "R survival"]


def _installed(tool: str) -> str | None:
    """None when the tool can run, else the reason it is skipped."""
    import importlib.util

    mod = {
        "lifelines": "lifelines",
        "statsmodels": "statsmodels",
        "scikit-survival": "sksurv",
        "workbench (lifelines API)": "lifelines",
    }.get(tool)
    if tool == "R survival":
        if shutil.which("Rscript") is None:
            return "Rscript not found"
        ok = (
            subprocess.run(
                ["Rscript", "-e", "quit(status = !requireNamespace('survival'))"],
                capture_output=True,
            ).returncode
            == 0
        )
        return None if ok else "R package survival not installed"
    if mod and importlib.util.find_spec(mod) is None:
        return f"python package {mod} not installed"
    return None


def _spawn(
    cmd: list[str], timeout: float, env=None, cwd=None
) -> tuple[int, str, str, float, float]:
    """Run ``cmd``; return (returncode, stdout, stderr, wall seconds, peak RSS MB of the child)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # own session: on timeout the whole group (pool workers, kernels) is stopped
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                status = -999
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        rc = status if status == -999 else os.waitstatus_to_exitcode(status)
        p.returncode = rc
        return (
            rc,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            wall,
            ru.ru_maxrss / 1024.0,
        )


def _parse(stdout: str) -> dict | None:
    for line in stdout.splitlines()[::-1]:
        if line.startswith("@@RESULT@@"):
            return json.loads(line[len("@@RESULT@@") :])
    return None


def run_case(
    case: str, n: int, tool: str, datadir: Path, repeats: int, timeout: float = WORKER_TIMEOUT
) -> dict:
    row = {"case": case, "n": n, "tool": tool}
    if tool == "R survival":
        cmd = [
            "Rscript",
            str(HERE / "r_worker.R"),
            case,
            str(datadir / f"cox_{n}.bin"),
            str(datadir / f"cox_{n}.cols"),
            str(n),
            str(repeats),
        ]
    else:
        cmd = [
            PY,
            str(HERE / "_cases.py"),
            case,
            tool,
            str(n),
            str(datadir),
            str(SEED),
            str(repeats),
        ]
    rc, out, err, wall, peak = _spawn(cmd, timeout, cwd=str(ROOT))
    res = _parse(out)
    if rc == -999:
        row.update(status="timeout", note=f"stopped after {timeout:.0f} s")
    elif rc != 0 or res is None:
        tail = (err.strip().splitlines() or ["no output"])[-1][:200]
        row.update(status="error", note=f"exit {rc}: {tail}")
    else:
        times = res["times"]
        row.update(
            status="ok",
            median_s=statistics.median(times),
            runs=len(times),
            cpu_s=statistics.median(res.get("cpu") or [float("nan")]),
            times=times,
            peak_mb=round(peak, 1),
            check=res.get("check") or None,
            note=res.get("note", ""),
        )
        for k in ("distinct_days", "events", "predict_traced_mb"):
            if k in res:
                row[k] = res[k]
    row["process_wall_s"] = round(wall, 2)
    return row


def run_batch(tmp: Path, timeout: float = 900.0) -> dict:
    row = {"case": "batch", "n": None, "tool": WB}
    batch = ROOT / "batches" / "default.yml"
    exe = Path(PY).with_name("workbench")
    if not batch.is_file():
        return {**row, "status": "skipped", "note": "batches/default.yml not present yet"}
    if not exe.exists():
        return {
            **row,
            "status": "skipped",
            "note": "the `workbench` console script is not installed",
        }
    out = tmp / "reports"
    env = dict(os.environ, WORKBENCH_REPORTS=str(out))
    cmd = [str(exe), "batch", str(batch), "--out", str(out), "--workers", "2", "--quiet"]
    rc, so, se, wall, peak = _spawn(cmd, timeout, env=env, cwd=str(ROOT))
    if rc != 0:
        tail = ((se or so).strip().splitlines() or ["no output"])[-1][:200]
        return {
            **row,
            "status": "error" if rc != -999 else "timeout",
            "note": f"exit {rc}: {tail}",
            "median_s": round(wall, 2),
            "runs": 1,
        }
    n_runs = len(list(out.glob("*/*/report.html")))
    return {
        **row,
        "status": "ok",
        "median_s": wall,
        "runs": 1,
        "peak_mb": round(peak, 1),
        "note": f"{n_runs} reports; wall time and peak RSS of the largest process",
    }


#: cases whose rows come from a helper module's ``run()`` (case -> module in benchmarks/)
HELPER_CASES = {"runner_overhead": "bench_runner", "purchases": "bench_purchases"}


def runner_overhead(timeout: float, case: str = "runner_overhead") -> list[dict]:
    """Rows from ``benchmarks/<module>.py``'s ``run()`` (``bench_runner``: the runner helper's
    benchmark; ``bench_purchases``: purchase histories beside lifetimes), run in a child process
    with a time limit."""
    module = HELPER_CASES[case]
    row = {"case": case, "n": None, "tool": WB}
    if not (HERE / f"{module}.py").is_file():
        return [{**row, "status": "skipped", "note": f"benchmarks/{module}.py not present"}]
    code = (
        f"import json, sys; sys.path.insert(0, sys.argv[1]); import {module}; "
        f"print('@@RESULT@@' + json.dumps({{'rows': {module}.run()}}, default=str))"
    )
    rc, so, se, wall, peak = _spawn([PY, "-c", code, str(HERE)], timeout, cwd=str(ROOT))
    res = _parse(so)
    if rc != 0 or res is None:
        tail = ((se or so).strip().splitlines() or ["no output"])[-1][:200]
        status = "timeout" if rc == -999 else "error"
        return [{**row, "status": status, "note": f"exit {rc} after {wall:.0f} s: {tail}"}]
    out = []
    for r in res["rows"]:
        if isinstance(r, dict) and "median_s" in r:
            out.append({**row, "status": "ok", **r})
        else:
            out.append({**row, "status": "ok", "note": json.dumps(r, default=str)[:300]})
    return out


# ------------------------------------------------------------------------------------ report
def _fmt(x, digits=3):
    if x is None or (isinstance(x, float) and x != x):
        return ""
    if isinstance(x, int):
        return f"{x:,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def add_ratios(rows: list[dict]) -> None:
    ours = {(r["case"], r["n"]): r for r in rows if r["tool"] == WB and r.get("status") == "ok"}
    for r in rows:
        base = ours.get((r["case"], r["n"]))
        if base and r.get("status") == "ok" and r["tool"] != WB and base.get("median_s"):
            r["ratio_to_workbench"] = r["median_s"] / base["median_s"]
            if base.get("check") and r.get("check") and len(base["check"]) == len(r["check"]):
                rel = max(
                    abs(a - b) / max(abs(b), 1e-12) for a, b in zip(r["check"], base["check"])
                )
                r["coef_max_rel_diff"] = rel


def markdown(rows: list[dict], meta: dict) -> str:
    head = (
        "| case | n | tool | median s | runs | CPU s | x workbench | peak MB | note |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---|\n"
    )
    lines = []
    for r in rows:
        note = r.get("note", "") or ""
        if r.get("status") not in ("ok", None):
            note = f"**{r['status']}**: {note}"
        if "coef_max_rel_diff" in r:
            note = (note + "; " if note else "") + f"coef vs workbench {r['coef_max_rel_diff']:.1e}"
        ratio = r.get("ratio_to_workbench")
        lines.append(
            f"| {r['case']} | {_fmt(r['n']) if r['n'] else ''} | {r['tool']} | "
            f"{_fmt(r.get('median_s'))} | {r.get('runs', '')} | {_fmt(r.get('cpu_s'))} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | {_fmt(r.get('peak_mb'))} | {note} |"
        )
    # compact: workbench vs each peer (peer time / workbench time; > 1: the workbench is faster)
    peers = [p for p in dict.fromkeys(r["tool"] for r in rows) if p != WB]
    keys = list(dict.fromkeys((r["case"], r["n"]) for r in rows if r["tool"] != WB))
    comp = [
        "| case | n | workbench s | " + " | ".join(f"{p} / workbench" for p in peers) + " |",
        "|---|---:|---:|" + "---:|" * len(peers),
    ]
    for case, n in keys:
        base = next((r for r in rows if (r["case"], r["n"], r["tool"]) == (case, n, WB)), None)
        cells = []
        for p in peers:
            r = next((x for x in rows if (x["case"], x["n"], x["tool"]) == (case, n, p)), None)
            if r is None:
                cells.append("")
            elif r.get("ratio_to_workbench") is not None:
                cells.append(f"{r['ratio_to_workbench']:.2f}")
            else:
                cells.append(r.get("status", ""))
        comp.append(
            f"| {case} | {_fmt(n) if n else ''} | {_fmt((base or {}).get('median_s'))} | "
            + " | ".join(cells)
            + " |"
        )
    targets = "\n".join(f"- {t}" for t in meta.get("targets", []))
    return (
        f"# Benchmarks\n\n{meta['when']} on {meta['machine']}; total {meta['total_s']:.0f} s. "
        "Wall-clock seconds (median of the runs), CPU seconds of the timed calls, peak RSS of "
        "the case's own process. The machine may be shared: CPU seconds are the steadier "
        "measure when wall times are noisy.\n\n"
        "## Workbench against each peer (peer time / workbench time; > 1: the workbench is faster)\n\n"
        + "\n".join(comp)
        + "\n\n## All measurements\n\n"
        + head
        + "\n".join(lines)
        + ("\n\n## Targets\n\n" + targets if targets else "")
        + "\n"
    )


def targets(rows: list[dict]) -> list[str]:
    out = []

    def get(case, n):
        return next(
            (
                r
                for r in rows
                if r["case"] == case and r["n"] == n and r["tool"] == WB and r.get("status") == "ok"
            ),
            None,
        )

    for case, n, secs, mb, label in (
        ("simulate", 1_000_000, 20, 2048, "simulate 1M customers"),
        ("validate", 1_000_000, 5, None, "validate 1M rows"),
        ("predict_survival", 1_000_000, None, 2048, "predict survival of 1M customers"),
    ):
        r = get(case, n)
        if r is None:
            continue
        bits = []
        if secs is not None:
            bits.append(
                f"{r['median_s']:.1f} s (target < {secs} s: "
                f"{'met' if r['median_s'] < secs else 'NOT met'})"
            )
        if mb is not None:
            bits.append(
                f"peak {r['peak_mb']:,.0f} MB (target < {mb:,} MB: "
                f"{'met' if r['peak_mb'] < mb else 'NOT met'})"
            )
        out.append(f"{label}: " + ", ".join(bits))

    def tool_row(case, n, tool):
        return next(
            (
                r
                for r in rows
                if (r["case"], r["n"], r["tool"]) == (case, n, tool) and r.get("status") == "ok"
            ),
            None,
        )

    for case in ("cox_days", "cox_continuous"):
        for n in (100_000, 1_000_000):
            eng, fc = get(case, n), tool_row(case, n, WB_FIT_COX)
            if eng and fc:
                ratio = fc["median_s"] / eng["median_s"]
                out.append(
                    f"{case} at {n:,}: fit_cox {fc['median_s']:.2f} s vs engine "
                    f"{eng['median_s']:.2f} s = {ratio:.2f}x (target <= 1.2x: "
                    f"{'met' if ratio <= 1.2 else 'NOT met'}; CPU {fc['cpu_s']:.2f} s vs "
                    f"{eng['cpu_s']:.2f} s)"
                )
    for case in ("cox_days", "cox_continuous"):
        for n in (100_000, 1_000_000):
            nb, r_ = tool_row(case, n, WB_FIT_COX_PH), tool_row(case, n, "R survival")
            if nb and r_:
                share = nb["median_s"] / r_["median_s"]
                out.append(
                    f"{case} at {n:,}: fit_cox + concordance + ph_test (notebook 02's path) "
                    f"{nb['median_s']:.2f} s vs R coxph {r_['median_s']:.2f} s = {share:.2f} of R's "
                    f"time (target <= 0.20: {'met' if share <= 0.2 else 'NOT met'}; CPU "
                    f"{nb['cpu_s']:.2f} s vs {r_['cpu_s']:.2f} s)"
                )
    for n in (100_000, 1_000_000):
        st, un = tool_row("cox_stratified", n, WB_FIT_COX), tool_row("cox_days", n, WB_FIT_COX)
        if st and un:
            ratio = st["median_s"] / un["median_s"]
            out.append(
                f"stratified fit_cox (12 strata) at {n:,}: {st['median_s']:.3f} s vs unstratified "
                f"{un['median_s']:.3f} s = {ratio:.2f}x (target <= 1.5x: "
                f"{'met' if ratio <= 1.5 else 'NOT met'})"
            )
        st, un = get("logrank_stratified", n), get("logrank", n)
        if st and un:
            ratio = st["median_s"] / un["median_s"]
            out.append(
                f"stratified log-rank (9 strata) at {n:,}: {st['median_s']:.3f} s vs unstratified "
                f"{un['median_s']:.3f} s = {ratio:.2f}x (target <= 1.5x: "
                f"{'met' if ratio <= 1.5 else 'NOT met'})"
            )
    for case in ("cox_days", "cox_continuous"):
        for n in (100_000, 1_000_000):
            ours, r_ = (
                get(case, n),
                next(
                    (
                        r
                        for r in rows
                        if r["case"] == case
                        and r["n"] == n
                        and r["tool"] == "R survival"
                        and r.get("status") == "ok"
                    ),
                    None,
                ),
            )
            if ours and r_:
                out.append(
                    f"{case} at {n:,}: workbench {ours['median_s']:.2f} s vs R {r_['median_s']:.2f} s "
                    f"({'at least as fast' if ours['median_s'] <= r_['median_s'] else 'SLOWER'}; "
                    f"CPU {ours['cpu_s']:.2f} s vs {r_['cpu_s']:.2f} s)"
                )
    return out


# ------------------------------------------------------------------------------------ plan
CASE_ORDER = [
    "simulate",
    "cox_days",
    "cox_continuous",
    "km_logrank",
    "logrank",
    "logrank_stratified",
    "cox_stratified",
    "predict_survival",
    "validate",
    "ipw_bootstrap",
    "batch",
    "runner_overhead",
]
TOOL_ORDER = [
    WB,
    WB_FIT_COX,
    WB_FIT_COX_PH,
    "workbench (lifelines API)",
    "lifelines",
    "statsmodels",
    "scikit-survival",
    "R survival",
]


def plan(sizes: list[int], want, quick: bool = False) -> list[tuple]:
    """Tasks (priority, case, n, tool, repeats), most important first.

    0: the data; 1: every workbench case, the default batch and R on the Cox cases (the engine's
    claim); 2: lifelines (as it comes and on the engine), R's Kaplan-Meier, the runner's overhead; 3: statsmodels and scikit-survival at
    100,000 on tied data and Kaplan-Meier; 4: the same on continuous tenure (slow); 5: those two
    at 1,000,000; 6: lifelines on continuous tenure at 1,000,000 (minutes).
    """
    tasks = [(0, "simulate", n, WB, 1) for n in sizes]
    for n in sizes:
        big = n >= 1_000_000
        for case in ("cox_days", "cox_continuous", "km_logrank", "predict_survival", "validate"):
            if want(case):
                tasks.append((1, case, n, WB, 3))
        for case in ("cox_days", "cox_continuous"):  # the user's path beside the engine
            if want(case):
                tasks.append((1, case, n, WB_FIT_COX, 3))
                tasks.append((1, case, n, WB_FIT_COX_PH, 3))
        for case in ("logrank", "logrank_stratified"):
            if want(case):
                tasks.append((1, case, n, WB, 3))
        if want("cox_stratified"):  # beside cox_days' fit_cox row
            tasks.append((1, "cox_stratified", n, WB_FIT_COX, 3))
        for case in ("cox_days", "cox_continuous"):
            if want(case):
                tasks.append((1, case, n, "R survival", 1 if big else 3))
        if not big and want("ipw_bootstrap"):
            tasks.append((1, "ipw_bootstrap", n, WB, 1))
    for n in sizes:
        big = n >= 1_000_000
        for case, peers in (
            ("cox_days", PEERS_COX),
            ("cox_continuous", PEERS_COX),
            ("km_logrank", PEERS_KM),
            ("predict_survival", ["lifelines"]),
        ):
            if not want(case):
                continue
            for tool in peers:
                if tool == "R survival" and case != "km_logrank":
                    continue  # already in priority 1
                if big and tool == "lifelines" and case == "cox_continuous":
                    prio = 6  # the slowest run of all (minutes): last, if the budget allows
                elif tool in ("lifelines", "workbench (lifelines API)", "R survival"):
                    prio = 2
                elif big:
                    prio = 5
                else:
                    prio = 4 if case == "cox_continuous" else 3
                tasks.append((prio, case, n, tool, 1 if big else 3))
    if want("batch") and not quick:
        tasks.append((1, "batch", None, WB, 1))
    if want("runner_overhead") and not quick:
        tasks.append((2, "runner_overhead", None, WB, 1))
    if want("purchases") and not quick:
        tasks.append((2, "purchases", None, WB, 1))
    return sorted(tasks, key=lambda t: t[0])  # stable: by size within a priority


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    only = {c for c in os.environ.get("BENCH_CASES", "").split(",") if c}
    budget = float(os.environ.get("BENCH_BUDGET", "780"))  # seconds; make bench must end < 15 min
    sizes = [100_000] if quick else [100_000, 1_000_000]
    t_start = time.perf_counter()
    rows: list[dict] = []
    skip_reason = {t: _installed(t) for t in PEERS_COX}

    def want(case):
        return not only or case in only

    def left():
        return budget - (time.perf_counter() - t_start)

    def log(r):
        status = r.get("status")
        what = (
            f"{_fmt(r.get('median_s'))} s x{r.get('runs', 0)}, {_fmt(r.get('peak_mb'))} MB"
            if status == "ok"
            else f"{status}: {r.get('note', '')}"
        )
        print(
            f"[{time.perf_counter() - t_start:6.0f} s] {r['case']:<17} {_fmt(r['n']) if r['n'] else '':>9} "
            f"{r['tool']:<26} {what}",
            flush=True,
        )

    def add(r):
        rows.append(r)
        log(r)

    def skip(case, n, tool, reason):
        add({"case": case, "n": n, "tool": tool, "status": "skipped", "note": reason})

    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmpname:
        tmp = Path(tmpname)
        datadir = tmp / "data"
        first = {}  # (case, tool) -> median at 100k, to decide the 1M runs
        failed_sizes = set()
        for prio, case, n, tool, repeats in plan(sizes, want, quick):
            if case == "batch":
                add(run_batch(tmp, timeout=600.0))
                continue
            if case in HELPER_CASES:
                if left() < 60:
                    skip(
                        case,
                        None,
                        WB,
                        f"not run: the {budget:.0f} s budget of make bench was used up",
                    )
                else:
                    for r in runner_overhead(timeout=max(60.0, min(400.0, left())), case=case):
                        add(r)
                continue
            big = n >= 1_000_000
            if n in failed_sizes:
                skip(case, n, tool, "no data: the simulation failed")
                continue
            if skip_reason.get(tool):
                skip(case, n, tool, skip_reason[tool])
                continue
            if big and tool == "scikit-survival" and case != "km_logrank":
                skip(
                    case,
                    n,
                    tool,
                    "run at 100,000 only: its Newton step loops in Python over "
                    "event times (see the 100,000 row)",
                )
                continue
            prev = first.get((case, tool))
            if big and prio >= 2 and prev is not None and prev * 12 > PEER_BUDGET:
                skip(
                    case,
                    n,
                    tool,
                    f"took {prev:.0f} s at 100,000; at 1,000,000 (12x or more) over "
                    f"the {PEER_BUDGET:.0f} s budget per peer run",
                )
                continue
            if prio >= 2 and left() < 30:
                skip(
                    case,
                    n,
                    tool,
                    f"not run: the {budget:.0f} s budget of make bench was used up "
                    "(BENCH_BUDGET=seconds allows more)",
                )
                continue
            r = run_case(
                case,
                n,
                tool,
                datadir,
                repeats,
                timeout=WORKER_TIMEOUT if prio < 2 else max(60.0, min(WORKER_TIMEOUT, left())),
            )
            add(r)
            if case == "simulate" and r.get("status") != "ok":
                failed_sizes.add(n)
            if not big and r.get("status") == "ok":
                first[(case, tool)] = r["median_s"]
        if want("ipw_bootstrap"):
            for tool in ("lifelines", "R survival"):
                skip(
                    "ipw_bootstrap",
                    100_000,
                    tool,
                    "no IPW-adjusted survival curve with bootstrap in the package as it comes",
                )
    rows.sort(
        key=lambda r: (
            CASE_ORDER.index(r["case"]) if r["case"] in CASE_ORDER else 99,
            r["n"] or 0,
            TOOL_ORDER.index(r["tool"]) if r["tool"] in TOOL_ORDER else 99,
        )
    )
    add_ratios(rows)
    total = time.perf_counter() - t_start
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "total_s": total,
        "quick": quick,
        "seed": SEED,
    }
    meta["targets"] = targets(rows)
    versions = {}
    for mod in ("numpy", "scipy", "pandas", "lifelines", "statsmodels", "sksurv"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    meta["versions"] = versions
    outdir = Path(os.environ.get("BENCH_OUT") or HERE)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(
        json.dumps({"meta": meta, "results": rows}, indent=1, default=str)
    )
    md = markdown(rows, meta)
    (outdir / "results.md").write_text(md)
    print()
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
