"""One run: validate parameters, execute with papermill in a child process, export, write provenance.

:func:`run_notebook` is a short sequence of small steps:

1. read the notebook's declared parameters and refuse unknown names, wrong types and missing data
   files before anything runs (:mod:`workbench.runner.parameters`);
2. compute the dataset fingerprint the notebook will see (:func:`manifest.dataset_info`);
3. create ``<reports>/<notebook-stem>/<run-name>/`` and write a ``running`` manifest;
4. execute the notebook with papermill in a **child process** of its own session
   (``python runner/_child.py``; papermill changes the working directory, so two runs
   never share a process) with ``WORKBENCH_RUN_DIR`` set, so ``workbench.record`` writes
   ``results.json`` and caveats go to ``warnings.jsonl``; the kernel runs in the run folder;
5. on the wall-clock timeout, stop the child's process group (SIGTERM, then SIGKILL; the kernel
   exits with its parent) and mark the run ``timed_out``;
6. export ``report.html`` (also for a failed or timed-out run, from the partial notebook) and
   write the final manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import project_root, reports_dir
from ..exceptions import ParameterError
from ..record import RUN_DIR_ENV, read_warnings
from . import manifest as mf
from .parameters import (
    PATH_PARAMETERS,
    check_paths,
    effective_parameters,
    read_parameters,
    validate_parameters,
)
from .processes import child_preexec
from .staging import MAX_ATTEMPTS, check_replaceable, publish, stage_dir

DEFAULT_TIMEOUT = 900.0
DEFAULT_KERNEL = "python3"
ERROR_FILE = ".error.json"
RUNNING_FILE = ".running_cell.json"
CHILD = Path(__file__).resolve().with_name("_child.py")
LOG_FILE = "run.log"
KILL_GRACE_S = 8.0
STATUSES = ("ok", "failed", "timed_out")


@dataclass
class RunOutcome:
    """What a run produced: its folder, status, duration and manifest."""

    notebook: str
    run_name: str
    run_dir: Path
    status: str
    duration_s: float
    manifest: dict = field(default_factory=dict)
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def report(self) -> Path:
        return self.run_dir / "report.html"

    def to_dict(self) -> dict:
        return {
            "notebook": self.notebook,
            "run_name": self.run_name,
            "run_dir": str(self.run_dir),
            "status": self.status,
            "duration_s": self.duration_s,
            "skipped": self.skipped,
            "attempt": int(self.manifest.get("attempt") or 1),
            **({"error": self.manifest["error"]} if self.manifest.get("error") else {}),
        }


def slug(text: str, max_len: int = 60) -> str:
    s = re.sub(r"[^A-Za-z0-9._=-]+", "-", str(text)).strip("-.")
    return s[:max_len] or "run"


def resolve_paths(params: Mapping[str, Any], base: str | Path) -> dict[str, Any]:
    """Make relative ``data_path`` / ``spec_path`` values absolute against ``base``."""
    out = dict(params)
    for name in PATH_PARAMETERS:
        v = out.get(name)
        if isinstance(v, str) and v and not Path(v).expanduser().is_absolute():
            out[name] = str((Path(base) / v).resolve())
    return out


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path.resolve())


@dataclass
class RunPlan:
    """A validated run, ready to execute (what a batch builds before running anything)."""

    notebook: Path
    given: dict
    parameters: dict
    run_name: str
    out_root: Path
    dataset: dict | None
    notebook_hash: str
    key: str
    timeout: float | None = None  # a batch entry's own limit (None: the batch's)

    @property
    def run_dir(self) -> Path:
        return self.out_root / self.notebook.stem / self.run_name


def plan_run(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    run_name: str | None = None,
    out: str | Path | None = None,
    paths_relative_to: str | Path | None = None,
    dataset_cache: dict | None = None,
) -> RunPlan:
    """Validate ``parameters`` for ``notebook`` and describe its data; nothing is executed.

    Raises
    ------
    ParameterError
        Unknown notebook, unknown parameter or wrong type (the message lists the valid ones).
    DatasetNotFoundError
        ``data_path`` / ``spec_path`` names a file that does not exist.
    """
    nb_path = Path(notebook).expanduser()
    if nb_path.suffix != ".ipynb":
        raise ParameterError(
            f"notebook '{notebook}' is not a .ipynb file; give the path of a Jupyter notebook, "
            "e.g. notebooks/01-retention-overview.ipynb."
        )
    nb_key = ("notebook", str(nb_path.resolve()))
    if dataset_cache is not None and nb_key in dataset_cache:  # a batch reads each notebook once
        declared, nb_hash = dataset_cache[nb_key]
    else:
        declared = read_parameters(nb_path)  # raises for a missing notebook
        nb_hash = mf.notebook_hash(nb_path)
        if dataset_cache is not None:
            dataset_cache[nb_key] = declared, nb_hash
    given = resolve_paths(dict(parameters or {}), paths_relative_to or Path.cwd())
    given = validate_parameters(declared, given, notebook=nb_path.name)
    check_paths(given, notebook=nb_path.name, given=parameters)
    eff = effective_parameters(declared, given)
    dp = mf.data_parameters(eff)
    ds = None
    if dp is not None:
        cache_key = json.dumps(dp, sort_keys=True, default=str)
        if dataset_cache is not None and cache_key in dataset_cache:
            ds = dataset_cache[cache_key]
        else:
            ds = mf.dataset_info(eff)
            if dataset_cache is not None:
                dataset_cache[cache_key] = ds
    if run_name is None:
        run_name = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        if given:
            run_name += "-" + slug(
                "_".join(f"{k}={v}" for k, v in given.items() if k not in PATH_PARAMETERS), 40
            )
        run_name = run_name.rstrip("-")
    out_root = Path(out).expanduser().resolve() if out else reports_dir()
    return RunPlan(
        notebook=nb_path.resolve(),
        given=given,
        parameters=eff,
        run_name=slug(run_name, 80),
        out_root=out_root,
        dataset=ds,
        notebook_hash=nb_hash,
        key=mf.run_key(nb_hash, eff, ds["fingerprint"] if ds else None),
    )


def _base_manifest(plan: RunPlan, kernel_name: str, timeout: float, batch: str | None) -> dict:
    return {
        "schema_version": mf.SCHEMA_VERSION,
        "notebook": _display_path(plan.notebook),
        "notebook_stem": plan.notebook.stem,
        "notebook_hash": plan.notebook_hash,
        "run_name": plan.run_name,
        "batch": batch,
        "parameters": plan.parameters,
        "parameters_given": plan.given,
        "dataset": plan.dataset,
        "run_key": plan.key,
        "kernel": kernel_name,
        "timeout_s": timeout,
        "packages": mf.package_versions(),
        "git": mf.git_info(),
        "status": "running",
    }


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _running_cell(nb_path: Path) -> dict:
    """Index and source of the cell that was running when the run was stopped: noted by the
    child on SIGTERM (``.running_cell.json``), else the cell papermill marked running."""
    import nbformat

    noted = nb_path.parent / RUNNING_FILE
    if noted.is_file():
        try:
            info = json.loads(noted.read_text())
            noted.unlink()
            return {k: info[k] for k in ("cell_index", "source") if k in info}
        except (OSError, ValueError):
            pass

    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception:
        return {}
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return {"cell_index": i, "source": cell.source}
    return {}


def _personal_values(plan: RunPlan) -> set[str]:
    """Ids and values of the spec's ``personal:`` columns of a run on a user's own data (a
    ``spec_path`` is given); the run's outputs are scrubbed of them. Built-in data sets
    (synthetic, Telco without a spec) hold no personal data."""
    spec_path = plan.parameters.get("spec_path")
    if not spec_path or plan.dataset is None:
        return set()
    from ..data import RoleSpec, load_dataset
    from ..privacy import personal_values

    try:
        RoleSpec.from_yaml(spec_path)  # a user's own data: its ids and personal columns
        dp = mf.data_parameters(plan.parameters) or {}
        ds = load_dataset(
            str(dp.get("dataset", "file")),
            data_path=dp.get("data_path") or None,
            spec_path=spec_path,
            **({"query": dp["query"]} if dp.get("query") else {}),
        )
    except Exception:  # the run itself reports data problems; nothing to scrub then
        return set()
    return personal_values(ds)


def _scrub_run(run_dir: Path, manifest: dict, values: set[str]) -> int:
    """Mask ids and personal values in results.json, warnings and the executed notebook."""
    import nbformat

    from ..privacy import scrub_markup, scrub_notebook, scrub_text

    total = 0
    for name in ("results.json", "warnings.jsonl"):
        p = run_dir / name
        if p.is_file():
            text, n = scrub_markup(p.read_text(encoding="utf-8"), values)
            if n:
                p.write_text(text, encoding="utf-8")
                total += n
    for w in manifest.get("warnings") or []:
        if isinstance(w, dict) and isinstance(w.get("message"), str):
            w["message"], n = scrub_text(w["message"], values)
            total += n
    err = manifest.get("error")
    if isinstance(err, dict):
        for k in ("evalue", "source"):
            if isinstance(err.get(k), str):
                err[k], n = scrub_text(err[k], values)
                total += n
    nb_path = run_dir / "notebook.ipynb"
    if nb_path.is_file():
        nb = nbformat.read(str(nb_path), as_version=4)
        n = scrub_notebook(nb, values)
        if n:
            nbformat.write(nb, str(nb_path))
            total += n
    return total


def execute_plan(
    plan: RunPlan,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    show_code: bool = False,
    kernel_name: str = DEFAULT_KERNEL,
    batch: str | None = None,
    warm=None,
    stage: Path | None = None,
) -> RunOutcome:
    """Execute a planned run (steps 3-6 of the module docstring).

    ``warm`` is a worker's warm template (:class:`workbench.runner._warm.Template`): the run's
    papermill process and its kernel are forked from it, with papermill, ipykernel and the
    scientific stack already imported (a fresh process each, as cold).

    ``stage`` (a batch's staging folder, see :func:`stage_dir`): the run is written there and moved
    to its run folder in one rename when complete, so a run folder never holds half a run. A
    staged folder left by an earlier attempt of the same batch means that attempt's worker died
    mid-run: this attempt is marked retried; after :data:`MAX_ATTEMPTS` the run is marked failed
    without running again. The move is skipped (and the staged run dropped) when the batch that
    staged it has given up (:data:`STAGE_ALIVE` removed).
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ParameterError(
            f"timeout must be a positive number of seconds, got {timeout!r}; e.g. timeout=900."
        )
    final_dir = plan.run_dir
    if final_dir.exists():
        check_replaceable(final_dir)
    attempt, lost = 1, None
    if stage is not None:
        run_dir = stage_dir(stage, plan)
        if run_dir.exists():  # an earlier attempt of this batch never finished: its worker died
            prev = mf.read_manifest(run_dir) or {}
            attempt = int(prev.get("attempt") or 1) + 1
            lost = prev.get("worker")
            dead = run_dir.with_name(f"{run_dir.name}.attempt{attempt - 1}")
            os.rename(run_dir, dead)  # its dying processes may still write there: set it aside
            shutil.rmtree(dead, ignore_errors=True)
    else:
        run_dir = final_dir
        if run_dir.exists():
            shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    manifest = _base_manifest(plan, kernel_name, timeout, batch)
    manifest["attempt"] = attempt
    manifest["worker"] = f"{platform.node()}:{os.getpid()}"
    if attempt > 1:
        manifest["retried"] = (
            f"attempt {attempt}: the worker running attempt {attempt - 1} "
            f"({lost or 'unknown'}) died before the run finished; the run was started again "
            "from scratch in a fresh kernel"
        )
    t0, started, wall0 = time.perf_counter(), mf.now(), time.time()
    manifest["started"] = mf.iso(started)
    mf.write_manifest(run_dir, manifest)
    if attempt > MAX_ATTEMPTS:
        return _give_up(plan, run_dir, final_dir, manifest, stage, show_code)

    out_nb = run_dir / "notebook.ipynb"
    spec = {
        "input": str(plan.notebook),
        "output": str(out_nb),
        "parameters": plan.given,
        "kernel_name": kernel_name,
        "cwd": str(run_dir),
        "warm": warm.socket if warm is not None else None,
    }
    env = dict(os.environ)
    env[RUN_DIR_ENV] = str(run_dir)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.pop("MPLBACKEND", None)  # the kernel's inline backend draws the report's figures
    with open(run_dir / LOG_FILE, "wb") as log:
        proc = None
        if warm is not None:
            try:
                proc = warm.spawn(
                    json.dumps(spec, default=str), env=env, cwd=str(run_dir), log_fd=log.fileno()
                )
            except OSError:  # the template is gone: this run starts cold
                spec["warm"] = None
        if proc is None:
            proc = subprocess.Popen(
                [sys.executable, str(CHILD), json.dumps(spec, default=str)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=child_preexec,  # SIGTERM to the child if this process dies (kill -9)
            )
        try:
            rc = proc.wait(timeout)
            status = "ok" if rc == 0 else "failed"
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            status = "timed_out"
        except BaseException:  # interrupted (Ctrl-C, batch stopped): leave no orphan behind
            _kill_group(proc)
            manifest.update(
                status="interrupted",
                ended=mf.iso(mf.now()),
                duration_s=round(time.perf_counter() - t0, 3),
            )
            mf.write_manifest(run_dir, manifest)
            raise
    ended = mf.now()
    t_exec = time.perf_counter()
    manifest.update(ended=mf.iso(ended), duration_s=round(t_exec - t0, 3), status=status)

    if not out_nb.is_file():  # stopped before papermill wrote anything: show the input
        shutil.copyfile(plan.notebook, out_nb)
    err_path = run_dir / ERROR_FILE
    if status == "failed":
        error = {}
        if err_path.is_file():
            try:
                error = json.loads(err_path.read_text())
            except json.JSONDecodeError:
                error = {}
        if not error:
            tail = (run_dir / LOG_FILE).read_text(errors="replace")[-2000:]
            error = {
                "ename": "RunError",
                "evalue": f"the papermill process exited with {rc}: {tail}",
            }
        manifest["error"] = error
    elif status == "timed_out":
        cell = _running_cell(out_nb)
        where = ""
        if "cell_index" in cell:
            first = (cell.get("source") or "").strip().splitlines()
            where = f" in cell {cell['cell_index'] + 1}" + (
                f" (`{first[0][:80]}`)" if first else ""
            )
        manifest["error"] = {
            "ename": "TimeoutError",
            "evalue": f"wall-clock timeout of {timeout:g} s reached; the run was stopped{where}. "
            "Give it a longer --timeout (or `timeout:` in the batch file), or smaller inputs.",
            **cell,
        }
    err_path.unlink(missing_ok=True)
    manifest["warnings"] = read_warnings(run_dir)
    secret = _personal_values(plan)
    if secret:
        manifest["personal_masked"] = _scrub_run(run_dir, manifest, secret)
    from .export import export_report

    # the final manifest is written last: a manifest saying "ok" means the report exists too
    try:
        export_report(out_nb, run_dir / "report.html", manifest=manifest, show_code=show_code)
    except Exception as e:  # the run's status stands; say why there is no full report
        import html

        manifest["report_error"] = f"{type(e).__name__}: {e}"
        (run_dir / "report.html").write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>report failed</title></head><body>"
            f"<h1>{html.escape(plan.notebook.stem)}</h1><section id='key-findings'><h2>Key findings</h2>"
            f"<p>The report could not be built: {html.escape(manifest['report_error'])}</p></section>"
            "</body></html>",
            encoding="utf-8",
        )
    manifest["timings"] = {
        "execute_s": manifest["duration_s"],  # papermill process: kernel start, cells, shutdown
        "report_s": round(time.perf_counter() - t_exec, 3),  # export, scrubbing
        "warm_kernel": bool(warm),
        "spawned_at": round(wall0, 3),  # epoch seconds: with papermill's cell times, where
        "exited_at": round(wall0 + manifest["duration_s"], 3),  # a run's time goes
    }
    if secret:
        from ..privacy import scrub_markup

        report = run_dir / "report.html"
        text, n = scrub_markup(report.read_text(encoding="utf-8"), secret)
        if n:
            report.write_text(text, encoding="utf-8")
    mf.write_manifest(run_dir, manifest)
    if stage is not None:
        publish(run_dir, final_dir, stage)
    return RunOutcome(
        notebook=_display_path(plan.notebook),
        run_name=plan.run_name,
        run_dir=final_dir,
        status=status,
        duration_s=manifest["duration_s"],
        manifest=manifest,
    )


def _give_up(plan, run_dir, final_dir, manifest, stage, show_code) -> RunOutcome:
    """A run whose worker died on every attempt: failed, with a report saying so."""
    from .export import export_report

    manifest.update(
        status="failed",
        ended=manifest["started"],
        duration_s=0.0,
        error={
            "ename": "WorkerLost",
            "evalue": f"the worker process died during each of {MAX_ATTEMPTS} attempts of this "
            "run (killed, or out of memory); it was not started again. Check the workers' memory "
            "and logs, then re-run the batch (finished runs are kept).",
        },
    )
    out_nb = run_dir / "notebook.ipynb"
    shutil.copyfile(plan.notebook, out_nb)
    try:
        export_report(out_nb, run_dir / "report.html", manifest=manifest, show_code=show_code)
    except Exception as e:  # pragma: no cover - same fallback as a normal run
        manifest["report_error"] = f"{type(e).__name__}: {e}"
    mf.write_manifest(run_dir, manifest)
    publish(run_dir, final_dir, stage)
    return RunOutcome(
        notebook=_display_path(plan.notebook),
        run_name=plan.run_name,
        run_dir=final_dir,
        status="failed",
        duration_s=0.0,
        manifest=manifest,
    )


def run_notebook(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    run_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    show_code: bool = False,
    kernel_name: str = DEFAULT_KERNEL,
    paths_relative_to: str | Path | None = None,
) -> RunOutcome:
    """Run ``notebook`` with ``parameters`` and publish it under ``<out>/<stem>/<run_name>/``.

    Parameters
    ----------
    notebook : path
        A ``.ipynb`` with a ``parameters``-tagged first code cell.
    parameters : mapping, optional
        Values for declared parameters only; checked before anything runs.
    out : path, optional
        Reports root (default :func:`workbench.config.reports_dir`, env ``WORKBENCH_REPORTS``).
    run_name : str, optional
        Folder name of the run (default: a timestamp plus the given parameters).
    timeout : float
        Wall-clock limit in seconds for the whole execution.
    show_code : bool
        Show code cells in ``report.html``.
    kernel_name : str
        Jupyter kernel (default ``python3``, the venv's own interpreter).
    paths_relative_to : path, optional
        Base for relative ``data_path`` / ``spec_path`` (default: the current directory).

    Returns
    -------
    RunOutcome
        ``status`` is ``ok``, ``failed`` or ``timed_out``; the run folder always holds
        ``notebook.ipynb``, ``report.html``, ``manifest.json`` (and ``results.json`` if anything
        was recorded).

    Raises
    ------
    ParameterError, DatasetNotFoundError
        Before execution, for an unknown notebook, parameter, wrong type or missing data file.

    References
    ----------
    papermill: https://papermill.readthedocs.io (parameterised notebook execution).
    """
    plan = plan_run(
        notebook, parameters, run_name=run_name, out=out, paths_relative_to=paths_relative_to
    )
    base = plan.run_name
    i = 1
    while plan.run_dir.exists() and run_name is None:
        i += 1
        plan.run_name = f"{base}-{i}"
    return execute_plan(plan, timeout=timeout, show_code=show_code, kernel_name=kernel_name)
