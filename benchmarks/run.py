"""``make bench``: the workbench against its peers on the same simulated customers, in one run.

Usage: ``.venv/bin/python benchmarks/run.py`` (``BENCH_QUICK=1``: the 100,000-customer cases only;
``BENCH_CASES=cox_days,km_logrank``: only those cases; ``BENCH_OUT=dir``: write the results
there instead; ``BENCH_BUDGET=seconds``: the time budget, default 1500;
``BENCH_AGGREGATE_ROWS=n``: rows of the aggregated-survival table, default 100,000,000, 1,000,000
with ``BENCH_QUICK``). Writes
``benchmarks/results.json``, then ``benchmarks/results.md`` generated from it, and prints the
table; ``python benchmarks/run.py --markdown`` regenerates ``results.md`` from ``results.json``.

Every (case, size, tool) runs in a fresh worker process (``benchmarks/_cases.py`` and
``benchmarks/_cases_user.py``, or ``benchmarks/r_worker.R`` for R), so its peak memory
(``ru_maxrss`` of that process, from ``os.wait4``) is its own; the 1-minute load average is
recorded before and after each. Loading the data is not timed; a timed run is one call of what a
user calls. Repeats: median of 3, or of 7 when each of the first 3 took under 1 s (fast cases get a
steadier median on a shared machine; the same rule for every tool, R included); a first run slower
than 10 s is not repeated, and peers run once at 1,000,000 customers (the ``runs`` column says how
many). The work is done by priority so that
the run ends within ``BENCH_BUDGET`` seconds: the data, every workbench case, the default batch and
R's ``coxph`` (with and without ``cox.zph``) and statsmodels on ``km_logrank`` (the peers the
issue's targets name; statsmodels runs 3 times at 1,000,000 too, so its first-call overhead is
not held against it) first; then R's other functions, lifelines (as it comes and on the engine)
and the helpers' benchmarks (the aggregated table first); then statsmodels and scikit-survival at
100,000, then at 1,000,000; lifelines on continuous tenure at 1,000,000 (minutes) comes last. A
peer whose 100,000 run predicts more than 300 s at 1,000,000, a peer that is not installed, and a
run that no longer fits the budget are listed as skipped with the reason, never dropped.

Tools: ``workbench`` is the Cox engine (``cox_fit``) for the Cox cases and the public function
for the others; ``workbench fit_cox`` is what the notebooks call (design, engine, concordance,
baseline) and ``workbench fit_cox + ph_test`` adds the proportional-hazards test (R: ``coxph``,
which reports the concordance too, and ``coxph`` + ``cox.zph``).

Cases (10 covariates; tenure in days, about 2,200 distinct values, or continuous = days minus a
uniform fraction, no ties):

* ``simulate``: ``workbench.data.simulate`` (target at 1M: < 20 s, < 2 GB); it also produces the data;
* ``cox_days``, ``cox_continuous``: Cox fit, Efron ties; ``cox_stratified``: the same stratified
  by region x segment;
* ``km_logrank``: Kaplan-Meier curves by a 4-level group and the log-rank test;
  ``logrank`` / ``logrank_stratified``: the log-rank test alone, unstratified / in 9 strata;
* ``concordance``, ``rmst``, ``cif``, ``finegray``, ``logit``, ``ipw_curve``, ``aggregate_km``,
  ``aggregate_cox``: see ``benchmarks/_cases_user.py``;
* ``predict_survival``: survival of every customer on a grid of 25 times (target < 2 GB at 1M);
* ``validate``: ``workbench.data.validate`` of the raw customer frame (target at 1M: < 5 s);
* ``ipw_bootstrap``: IPW-adjusted survival curves with 200 bootstrap replicates (100,000 only);
* ``batch``: ``workbench batch batches/default.yml`` end to end into a temporary reports folder;
* ``runner_overhead`` and ``purchases``: rows from ``bench_runner.py`` / ``bench_purchases.py``;
* ``aggregate``: ``bench_aggregate.aggregate_cases``: a generated Parquet customer table of
  ``BENCH_AGGREGATE_ROWS`` rows (written in a child process, not timed, deleted afterwards), DuckDB
  counts, Kaplan-Meier by 3 plans, log-rank, monthly churn rates and a Breslow Cox model (rows
  ``aggregate <step>``), and the agreement with the row-level functions on a 1,000,000-row slice
  (rows ``aggregate agreement <result>``).

Total time: the ``Date`` line of ``results.md`` gives it (``meta.total_s`` in ``results.json``).
"""

from __future__ import annotations

import json
import os
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
#: (case, tool) -> seconds allowed per process where the peer is known to be far slower
CASE_TIMEOUT = {("finegray", "R cmprsk"): 120.0, ("cif", "lifelines"): 180.0}
sys.path.insert(0, str(HERE))
from _cases_user import PEERS as PEERS_USER  # noqa: E402
from _report import (  # noqa: E402
    R_ZPH,
    WB,
    WB_FIT_COX,
    WB_FIT_COX_PH,
    _fmt,
    _machine,
    add_ratios,
    markdown,
    targets,
)

R_TOOLS = {"R survival": "survival", R_ZPH: "survival", "R cmprsk": "cmprsk", "R glm": "stats"}
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
        "statsmodels GLM": "statsmodels",
        "scikit-survival": "sksurv",
        "workbench (lifelines API)": "lifelines",
    }.get(tool)
    if tool in R_TOOLS:
        if shutil.which("Rscript") is None:
            return "Rscript not found"
        pkg = R_TOOLS[tool]
        ok = (
            subprocess.run(
                ["Rscript", "-e", f"quit(status = !requireNamespace('{pkg}'))"],
                capture_output=True,
            ).returncode
            == 0
        )
        return None if ok else f"R package {pkg} not installed"
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
    if tool in R_TOOLS:
        cmd = [
            "Rscript",
            str(HERE / "r_worker.R"),
            case + ("+zph" if tool == R_ZPH else ""),
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
    load_before = os.getloadavg()[0]
    rc, out, err, wall, peak = _spawn(cmd, timeout, cwd=str(ROOT))
    row.update(load_before=load_before, load_after=os.getloadavg()[0])
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
        if len(times) > 1 and times[0] > 2 * row["median_s"] and times[0] - row["median_s"] > 0.5:
            first = f"first run {times[0]:.2f} s (one-time imports / compilation)"
            row["note"] = f"{row['note']}; {first}" if row["note"] else first
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
    row["load_before"] = os.getloadavg()[0]
    rc, so, se, wall, peak = _spawn(cmd, timeout, env=env, cwd=str(ROOT))
    row["load_after"] = os.getloadavg()[0]
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


#: cases whose rows come from a helper module (case -> (module in benchmarks/, the call))
HELPER_CASES = {
    "runner_overhead": ("bench_runner", "run()"),
    "purchases": ("bench_purchases", "run()"),
    "aggregate": (
        "bench_aggregate",
        "aggregate_cases(rows={rows}, dask_workers=0, slice_rows=1_000_000)",
    ),
}
#: seconds a helper needs at least (not started with less of the budget left)
HELPER_MIN_S = {"aggregate": 240.0}
#: seconds a helper may take at most
HELPER_MAX_S = {"aggregate": 900.0}


def aggregate_rows(quick: bool) -> int:
    default = 1_000_000 if quick else 100_000_000
    return int(os.environ.get("BENCH_AGGREGATE_ROWS", default))


def runner_overhead(
    timeout: float, case: str = "runner_overhead", quick: bool = False
) -> list[dict]:
    """Rows from a helper module's call (``bench_runner.run()``: the runner helper's benchmark;
    ``bench_purchases.run()``: purchase histories beside lifetimes;
    ``bench_aggregate.aggregate_cases(...)``: survival from aggregates), run in a child process
    with a time limit."""
    module, call = HELPER_CASES[case]
    call = call.format(rows=aggregate_rows(quick))
    row = {"case": case, "n": None, "tool": WB}
    if not (HERE / f"{module}.py").is_file():
        return [{**row, "status": "skipped", "note": f"benchmarks/{module}.py not present"}]
    code = (
        f"import json, sys; sys.path.insert(0, sys.argv[1]); import {module}; "
        f"print('@@RESULT@@' + json.dumps({{'rows': {module}.{call}}}, default=str))"
    )
    row["load_before"] = os.getloadavg()[0]
    rc, so, se, wall, peak = _spawn([PY, "-c", code, str(HERE)], timeout, cwd=str(ROOT))
    row["load_after"] = os.getloadavg()[0]
    res = _parse(so)
    if rc != 0 or res is None:
        tail = ((se or so).strip().splitlines() or ["no output"])[-1][:200]
        status = "timeout" if rc == -999 else "error"
        return [{**row, "status": status, "note": f"exit {rc} after {wall:.0f} s: {tail}"}]
    out = []
    for r in res["rows"]:
        if isinstance(r, dict) and "median_s" in r:
            r.setdefault("peak_mb", round(peak, 1))  # the helper process' own peak otherwise
            out.append({**row, "status": "ok", **r})
        else:
            out.append({**row, "status": "ok", "note": json.dumps(r, default=str)[:300]})
    return out


# ------------------------------------------------------------------------------------ plan
COX_CASES = ("cox_days", "cox_continuous", "cox_stratified")
USER_CASES = tuple(PEERS_USER)  # concordance, rmst, cif, finegray, logit, ipw_curve, aggregate_*
ONLY_100K = ("ipw_curve", "ipw_bootstrap")
CASE_ORDER = [
    "simulate",
    *COX_CASES,
    "km_logrank",
    "logrank",
    "logrank_stratified",
    *USER_CASES,
    "predict_survival",
    "validate",
    "ipw_bootstrap",
    "batch",
    "runner_overhead",
    "purchases",
    "aggregate",
]
TOOL_ORDER = [
    WB,
    WB_FIT_COX,
    WB_FIT_COX_PH,
    "workbench (lifelines API)",
    "row-level workbench",
    "lifelines",
    "statsmodels",
    "statsmodels GLM",
    "scikit-survival",
    "R survival",
    R_ZPH,
    "R cmprsk",
    "R glm",
]


#: (case, peer) that a target of the issue is stated against: run with the workbench (priority
#: 1) and 3 times at every size
TARGET_PEERS = {("km_logrank", "statsmodels")}


def _peer_priority(case: str, tool: str, big: bool) -> int:
    """1: a peer a target names (:data:`TARGET_PEERS`); 2: R and lifelines (the usual references); 3 / 4: statsmodels and scikit-survival at
    100,000 (4 on continuous tenure, slow); 5: those at 1,000,000; 6: lifelines on continuous
    tenure at 1,000,000 (minutes)."""
    if (case, tool) in TARGET_PEERS:
        return 1
    if big and tool == "lifelines" and case == "cox_continuous":
        return 6
    if tool.startswith("R ") or tool in (
        "lifelines",
        "workbench (lifelines API)",
        "row-level workbench",
    ):
        return 2
    if big:
        return 5
    return 4 if case == "cox_continuous" else 3


def plan(sizes: list[int], want, quick: bool = False) -> list[tuple]:
    """Tasks (priority, case, n, tool, repeats), most important first.

    0: the data; 1: every workbench case, the default batch and R on the Cox cases (with and
    without cox.zph); 2 and later: see :func:`_peer_priority`.
    """
    tasks = [(0, "simulate", n, WB, 1) for n in sizes]
    peers = {
        "cox_days": PEERS_COX,
        "cox_continuous": PEERS_COX,
        "cox_stratified": ["lifelines"],
        "km_logrank": PEERS_KM,
        "logrank": ["lifelines", "statsmodels", "R survival"],
        "logrank_stratified": ["statsmodels", "R survival"],
        "predict_survival": ["lifelines"],
        **PEERS_USER,
    }
    for n in sizes:
        big = n >= 1_000_000
        for case in CASE_ORDER:
            if not want(case) or case in ("simulate", "batch") or case in HELPER_CASES:
                continue
            if big and case in ONLY_100K:
                continue
            if case == "ipw_bootstrap":
                tasks.append((1, case, n, WB, 1))
                continue
            tasks.append((1, case, n, WB, 3))
            if case in COX_CASES:  # the user's path beside the engine, and R's coxph
                tasks.append((1, case, n, WB_FIT_COX, 3))
                tasks.append((1, case, n, WB_FIT_COX_PH, 3))
                tasks.append((1, case, n, "R survival", 1 if big else 3))
                tasks.append((1, case, n, R_ZPH, 1 if big else 3))
    if want("aggregate"):  # first of priority 2: the 100,000,000-row target
        tasks.append((2, "aggregate", None, WB, 1))
    for n in sizes:
        big = n >= 1_000_000
        for case, tools in peers.items():
            if not want(case) or (big and case in ONLY_100K):
                continue
            for tool in tools:
                if case in COX_CASES and tool == "R survival":
                    continue  # already in priority 1
                reps = 3 if not big or (case, tool) in TARGET_PEERS else 1
                tasks.append((_peer_priority(case, tool, big), case, n, tool, reps))
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
    budget = float(os.environ.get("BENCH_BUDGET", "1500"))  # seconds
    sizes = [100_000] if quick else [100_000, 1_000_000]
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    rows: list[dict] = []
    all_tools = {t for _, _, _, t, _ in plan(sizes, lambda c: True)} - {
        WB,
        WB_FIT_COX,
        WB_FIT_COX_PH,
    }
    skip_reason = {t: _installed(t) for t in all_tools}

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
                need = HELPER_MIN_S.get(case, 60.0)
                if left() < need:
                    skip(
                        case,
                        None,
                        WB,
                        f"not run: less than {need:.0f} s of the {budget:.0f} s budget of make "
                        "bench was left (BENCH_BUDGET=seconds allows more)",
                    )
                else:
                    limit = max(need, min(HELPER_MAX_S.get(case, 400.0), left()))
                    for r in runner_overhead(timeout=limit, case=case, quick=quick):
                        add(r)
                continue
            big = n >= 1_000_000
            if n in failed_sizes:
                skip(case, n, tool, "no data: the simulation failed")
                continue
            if skip_reason.get(tool):
                skip(case, n, tool, skip_reason[tool])
                continue
            if big and tool == "scikit-survival" and case in COX_CASES:
                skip(
                    case,
                    n,
                    tool,
                    "run at 100,000 only: its Newton step loops in Python over "
                    "event times (see the 100,000 row)",
                )
                continue
            prev = first.get((case, tool))
            if big and prio >= 2 and prev == float("inf"):
                skip(
                    case, n, tool, "did not finish at 100,000 within its time limit (see that row)"
                )
                continue
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
                timeout=min(
                    CASE_TIMEOUT.get((case, tool), WORKER_TIMEOUT),
                    WORKER_TIMEOUT if prio < 2 else max(60.0, left()),
                ),
            )
            if r.get("status") == "timeout" and prio >= 2:
                r["note"] += " (the peer did not finish within its share of the budget)"
            add(r)
            if case == "simulate" and r.get("status") != "ok":
                failed_sizes.add(n)
            if not big and r.get("status") == "ok":
                first[(case, tool)] = r["median_s"]
            elif not big and r.get("status") == "timeout":
                first[(case, tool)] = float("inf")
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
            CASE_ORDER.index(r["case"].split(" ")[0])
            if r["case"].split(" ")[0] in CASE_ORDER
            else 99,
            r["n"] or 0,
            TOOL_ORDER.index(r["tool"]) if r["tool"] in TOOL_ORDER else 99,
        )
    )
    add_ratios(rows)
    total = time.perf_counter() - t_start
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": _machine(),
        "load_average_start": load_start,
        "load_average": os.getloadavg(),
        "command": " ".join(
            [f"{k}={v}" for k, v in os.environ.items() if k.startswith("BENCH_")]
            + ["python", "benchmarks/run.py"]
            + sys.argv[1:]
        ),
        "budget_s": budget,
        "total_s": total,
        "quick": quick,
        "seed": SEED,
        "commit": _commit(),
    }
    meta["targets"] = targets(rows)
    versions = {}
    for mod in (
        "numpy",
        "scipy",
        "pandas",
        "numba",
        "duckdb",
        "lifelines",
        "statsmodels",
        "sksurv",
    ):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    r_version = subprocess.run(
        [
            "Rscript",
            "-e",
            "cat(paste(R.version$major, R.version$minor, sep = '.'), 'with survival',"
            " format(packageVersion('survival')), 'and cmprsk', format(packageVersion('cmprsk')))",
        ],
        capture_output=True,
        text=True,
    )
    versions["R"] = r_version.stdout.strip() or None
    meta["versions"] = versions
    outdir = Path(os.environ.get("BENCH_OUT") or HERE)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(
        json.dumps({"meta": meta, "results": rows}, indent=1, default=str)
    )
    print()
    print(write_markdown(outdir))
    return 0


def _commit() -> str | None:
    """The git commit the run measured (with ``+changes`` when the work tree differs from it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "src", "benchmarks"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout.strip()
    except OSError:
        return None
    return (head + (" +changes" if dirty else "")) or None


def write_markdown(outdir: Path) -> str:
    """``results.md`` generated from ``results.json`` (``python benchmarks/run.py --markdown``
    regenerates it without running anything)."""
    saved = json.loads((outdir / "results.json").read_text())
    md = markdown(saved["results"], saved["meta"])
    (outdir / "results.md").write_text(md)
    return md


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        write_markdown(Path(os.environ.get("BENCH_OUT") or HERE))
        sys.exit(0)
    sys.exit(main())
