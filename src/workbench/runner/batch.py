"""Batches: notebooks x a parameter grid, run in separate processes (locally or on Dask).

A batch file (YAML)::

    name: segments                 # optional; default: the file's stem
    notebooks:                     # paths or globs, relative to the project root, or
      - notebooks/02-tenure-survival.ipynb     # {path, parameters, timeout} for one notebook
      - {path: notebooks/05-customer-value.ipynb, parameters: {horizon: 24}, timeout: 300}
    parameters: {n_customers: 5000}    # optional: given to every run
    grid:                          # optional: cartesian product of the lists
      seed: [0, 1]
      alpha: [0.05, 0.10]
    runs:                          # optional: an explicit list of parameter sets
      - {dataset: synthetic}
    timeout: 900                   # optional: per-run wall-clock limit (seconds)
    workers: 2                     # optional: default number of parallel runs
    compare: [median_tenure, cox]  # optional: recorded results compared in summary.html

The parameter sets are ``parameters`` + each ``runs`` entry + each grid point (``runs`` x
``grid`` when both are given). Every run is validated before anything executes. Relative paths
(``notebooks``, ``data_path``, ``spec_path``) are taken from the project root
(:func:`workbench.config.project_root`), so a batch runs the same from any directory.

Each run goes to ``<reports>/<notebook-stem>/<batch-name>[-<params>]/``; a re-run skips a run
whose manifest says ``ok`` with the same key (notebook content, parameters, data fingerprint)
unless ``force``; so an interrupted batch resumes where it stopped. At the end
``<reports>/<batch-name>/summary.html`` compares the recorded results across runs and
``<reports>/index.html`` is rebuilt.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
import warnings
from collections.abc import Mapping
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..config import project_root, reports_dir
from ..exceptions import BatchWarning, ParameterError, RunError
from . import manifest as mf
from .batchfile import (  # noqa: F401 - re-exported: the batch API lives here
    BATCH_KEYS,
    BatchSpec,
    _run_names,
    check_batch_name,
    load_batch,
    parameter_sets,
)
from .execute import (
    RunOutcome,
    RunPlan,
    execute_plan,
    plan_run,
    slug,
)
from .parameters import canonical_json as canonical
from .processes import OutFolderLock, connect_dask, die_with_parent, quiet_dask_client_logs
from .staging import close_stage, open_stage

BATCH_FILE = "batch.json"
DASK_CONNECT_TIMEOUT_S = 5.0
DASK_LOST_S = 8.0
TEMPLATE_START_S = 180.0  # a run waits this long for its batch's warm template, then starts cold


@dataclass
class BatchOutcome:
    """Every run's outcome, and where the summary went."""

    name: str
    outcomes: list[RunOutcome]
    summary_path: Path
    index_path: Path | None
    duration_s: float
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(o.status == "ok" for o in self.outcomes)


# ---------------------------------------------------------------------------------- parsing
def plan_batch(spec: BatchSpec, *, out: str | Path | None = None) -> list[RunPlan]:
    """Validate every run of ``spec`` (parameters, data files) before anything executes.

    A run identical to an earlier one (same notebook, same effective parameters, e.g. ``alpha:
    0.05`` and ``alpha: 0.050``) is merged into it with a :class:`BatchWarning`.
    """
    root = project_root()
    cache: dict = {}
    plans = []
    names = _run_names(spec)
    per_nb: dict[Path, int] = {}
    for job in spec.jobs:
        per_nb[job["notebook"]] = per_nb.get(job["notebook"], 0) + 1
    seen: dict[tuple, str] = {}
    entry_no: dict[Path, int] = {}
    for job in spec.jobs:
        nb = job["notebook"]
        entry_no[nb] = entry_no.get(nb, 0) + 1
        suffix = ""
        if per_nb[nb] > 1:  # one notebook in several entries: the entry's parameters name it
            bits = "_".join(f"{k}={v}" for k, v in job["parameters"].items())
            suffix = "-" + (slug(bits, 40) if bits else f"entry{entry_no[nb]}")
        for params, name in zip(spec.parameter_sets, names):
            try:
                plan = plan_run(
                    nb,
                    {**params, **job["parameters"]},
                    run_name=slug(name + suffix, 100),
                    out=out,
                    paths_relative_to=root,
                    dataset_cache=cache,
                )
            except ParameterError as e:
                raise ParameterError(f"batch {spec.source}: {e}") from e
            key = (str(nb), canonical(plan.parameters))
            if key in seen:
                warnings.warn(
                    f"batch {spec.source}: run '{plan.run_name}' of {nb.name} has the same "
                    f"parameters as run '{seen[key]}' (after reading the values: "
                    f"{canonical(plan.given)}); it runs once, as '{seen[key]}'.",
                    BatchWarning,
                    stacklevel=2,
                )
                continue
            taken = {p.run_dir for p in plans}
            i = 2
            base = plan.run_name
            while plan.run_dir in taken:
                plan.run_name = f"{base}-{i}"
                i += 1
            seen[key] = plan.run_name
            plan.timeout = job["timeout"]
            plans.append(plan)
    if not plans:
        raise ParameterError(f"batch {spec.source}: zero runs to do.")
    return plans


def _is_done(plan: RunPlan) -> dict | None:
    m = mf.read_manifest(plan.run_dir)
    if (
        m
        and m.get("status") == "ok"
        and m.get("run_key") == plan.key
        and (plan.run_dir / "report.html").is_file()
    ):
        return m
    return None


_RUNNING = False
_INTERRUPTED = False


def _on_sigint(signum, frame) -> None:  # pragma: no cover - runs in pool workers
    """Ctrl-C reaches every worker: stop the run in progress and start no further run."""
    global _INTERRUPTED
    _INTERRUPTED = True
    if _RUNNING:
        raise KeyboardInterrupt


def _worker_init(parent_pid: int | None = None) -> None:  # pragma: no cover - pool workers
    import signal

    die_with_parent(signal.SIGKILL, parent_pid=parent_pid)  # kill -9 of the batch: no orphans
    signal.signal(signal.SIGINT, _on_sigint)


_EXPORT_READY = False


def _prepare_export(show_code: bool) -> None:
    """Import nbconvert and build this worker's exporter in a thread while the worker's first run
    executes (otherwise the first report of every worker pays for it, about 1 s)."""
    global _EXPORT_READY
    if _EXPORT_READY:
        return
    _EXPORT_READY = True
    import threading

    def build() -> None:
        try:
            from .export import _exporter

            _exporter(bool(show_code))
        except Exception:  # the run's own export reports any problem
            pass

    threading.Thread(target=build, name="workbench-export-warmup", daemon=True).start()


def _task(
    plan: RunPlan,
    timeouts: Mapping[str, float],
    show_code: bool,
    kernel: str,
    batch: str,
    token: str = "",
    stage: str | None = None,
    shared: dict | None = None,
) -> RunOutcome:
    """What a worker process (or Dask task) does: one run, start to finish, its papermill process
    and kernel forked from a warm template (:mod:`workbench.runner._warm`): the local batch's
    ``shared`` one, else this worker's own (started at its first run); cold without either."""
    global _RUNNING
    if _INTERRUPTED:
        raise KeyboardInterrupt("batch interrupted before this run started")
    _RUNNING = True
    try:
        from ._warm import SharedTemplate, template

        timeout = getattr(plan, "timeout", None) or timeouts["*"]
        _prepare_export(show_code)
        if shared is not None:
            warm = SharedTemplate(**shared)
            warm = warm if warm.ready(TEMPLATE_START_S) else None
        else:
            warm = template(token or batch)
        return execute_plan(
            plan,
            timeout=timeout,
            show_code=show_code,
            kernel_name=kernel,
            batch=batch,
            warm=warm,
            stage=Path(stage) if stage else None,
        )
    finally:
        _RUNNING = False


def _state(
    spec: BatchSpec,
    outcomes: list[RunOutcome],
    pending: int,
    out_root: Path,
    started: str,
    run_dirs: list | None = None,
) -> None:
    folder = out_root / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    order = {Path(d): i for i, d in enumerate(run_dirs or [])}  # the batch file's order
    outcomes = sorted(outcomes, key=lambda o: order.get(Path(o.run_dir), len(order)))
    state = {
        "batch": spec.name,
        "source": spec.source,
        "started": started,
        "updated": mf.iso(mf.now()),
        "pending": pending,
        "compare": spec.compare,
        "runs": [o.to_dict() | {"report": str(o.report.relative_to(out_root))} for o in outcomes],
    }
    tmp = folder / (BATCH_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(folder / BATCH_FILE)


def run_batch(
    batch: str | Path | BatchSpec,
    *,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    out: str | Path | None = None,
    timeout: float | None = None,
    progress: bool = True,
    build_index: bool = True,
    lock_wait: float = 0.0,
) -> BatchOutcome:
    """Run every notebook x parameter set of ``batch`` in separate processes.

    Parameters
    ----------
    batch : path or BatchSpec
        The batch file (see module docstring).
    workers : int, optional
        Runs in parallel (default: the file's ``workers``, else 1).
    executor : {'local', 'dask'}
        ``local``: a process pool on this machine. ``dask``: one task per run on
        ``dask.distributed`` (a ``LocalCluster`` of process workers, or the cluster at
        ``scheduler``; its workers must see the same files and have ``workbench`` installed).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    force : bool
        Re-run runs whose notebook, parameters and data are unchanged.
    out : path, optional
        Reports root (default :func:`workbench.config.reports_dir`).
    timeout : float, optional
        Per-run wall-clock limit (default: the file's ``timeout``).
    lock_wait : float
        Seconds to wait when another batch is writing ``out`` (default 0: refuse at once,
        naming the holder's pid).

    Returns
    -------
    BatchOutcome
        ``ok`` is False when any run failed or timed out; the other runs still complete.
    """
    spec = batch if isinstance(batch, BatchSpec) else load_batch(batch)
    if executor not in ("local", "dask"):
        raise ParameterError(f"executor must be 'local' or 'dask', got {executor!r}.")
    if scheduler and executor != "dask":
        raise ParameterError("--scheduler needs --executor dask.")
    n_workers = workers or spec.workers or 1
    if n_workers < 1:
        raise ParameterError(f"workers must be at least 1, got {n_workers}.")
    out_root = Path(out).expanduser().resolve() if out else reports_dir()
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise ParameterError(
            f"timeout must be a positive number of seconds, got {timeout!r}; e.g. timeout=900."
        )
    t_run = float(timeout if timeout is not None else spec.timeout)
    t0 = time.perf_counter()
    started = mf.iso(mf.now())
    token = uuid.uuid4().hex
    # the local pool's warm template imports the scientific stack while the runs are planned
    shared = _start_template(token) if executor == "local" else None
    client = None
    try:
        if executor == "dask" and scheduler:  # before anything is written: refuse fast
            client = connect_dask(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
        plans = plan_batch(spec, out=out_root)
        out_existed = out_root.exists()
        lock = OutFolderLock(out_root, spec.name, wait=lock_wait)
        lock.acquire()
        stage = None
        batch_dir_existed = (out_root / spec.name).exists()
        try:
            stage = open_stage(out_root, token)
            outcomes: list[RunOutcome] = []
            todo: list[RunPlan] = []
            for plan in plans:
                done = None if force else _is_done(plan)
                if done is not None:
                    outcomes.append(
                        RunOutcome(
                            notebook=done.get("notebook", plan.notebook.name),
                            run_name=plan.run_name,
                            run_dir=plan.run_dir,
                            status="ok",
                            duration_s=float(done.get("duration_s") or 0),
                            manifest=done,
                            skipped=True,
                        )
                    )
                else:
                    todo.append(plan)
            _state(spec, outcomes, len(todo), out_root, started)

            from tqdm.auto import tqdm

            bar = tqdm(
                total=len(plans),
                initial=len(outcomes),
                desc=f"batch {spec.name}",
                unit="run",
                disable=not progress,
            )
            timeouts = {"*": t_run}
            args = (timeouts, spec.show_code, spec.kernel, spec.name, token, str(stage))
            if shared is not None:
                args += (shared.shared(),)
            todo = _longest_first(todo)

            def done(outcome: RunOutcome) -> None:
                outcomes.append(outcome)
                bar.update(1)
                bar.set_postfix_str(f"{Path(outcome.notebook).stem}: {outcome.status}")
                _state(spec, outcomes, len(plans) - len(outcomes), out_root, started)

            aborted = True
            try:
                if todo and executor == "local":
                    _run_local(todo, args, n_workers, done)
                elif todo:  # a lost scheduler is reported once, as a RunError
                    with quiet_dask_client_logs() if scheduler else contextlib.nullcontext():
                        _run_dask(todo, args, n_workers, client, done, scheduler, stage)
                aborted = False
            finally:
                bar.close()
                close_stage(stage)  # runs that never finished leave nothing behind
                ran = [o for o in outcomes if not o.skipped]
                if aborted and not ran:  # nothing ran: no summary page, no state of a batch
                    summary, index = _forget_batch(out_root / spec.name, batch_dir_existed), None
                else:
                    dirs = [p.run_dir for p in plans]
                    _state(spec, outcomes, len(plans) - len(outcomes), out_root, started, dirs)
                    from .index import write_batch_summary, write_index

                    summary = write_batch_summary(out_root, spec.name)
                    index = write_index(out_root) if build_index else None
            counts = {
                s: sum(o.status == s for o in outcomes) for s in ("ok", "failed", "timed_out")
            }
            counts["skipped"] = sum(o.skipped for o in outcomes)
            return BatchOutcome(
                spec.name, outcomes, summary, index, round(time.perf_counter() - t0, 3), counts
            )
        finally:
            if stage is not None:
                close_stage(stage)
            lock.release()
            if not out_existed:
                _remove_if_empty(out_root)  # a batch that wrote nothing leaves no folder
    finally:
        if client is not None:
            client.close()
        if shared is not None:
            shared.close()


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _start_template(token: str):
    """A warm template for a local batch's pool workers (:class:`workbench.runner._warm.Template`,
    not waited for), or None where kernels start cold."""
    from . import _warm

    if not _warm.supported() or os.environ.get("WORKBENCH_COLD_KERNELS"):
        return None
    try:
        return _warm.Template(token, wait=False)
    except OSError:
        return None


def _longest_first(plans: list[RunPlan]) -> list[RunPlan]:
    """``plans`` by the duration their run folder's last manifest recorded, longest first (runs
    never run before first, in file order): the long runs do not start last and keep one worker
    busy while the others have finished."""

    def last(plan: RunPlan) -> float:
        d = (mf.read_manifest(plan.run_dir) or {}).get("duration_s")
        return float(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else 1e12

    return sorted(plans, key=last, reverse=True)


def _forget_batch(folder: Path, existed: bool) -> Path:
    """A batch of which no run ran: remove the state it wrote (and its folder, if it made it)."""
    import shutil

    if existed:
        (folder / BATCH_FILE).unlink(missing_ok=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return folder / "summary.html"


def _run_local(todo, args, n_workers, done) -> None:
    """Every run on a pool of ``n_workers`` processes. A worker that dies (``kill -9``, out of
    memory) breaks the pool: the runs that had not finished go to a new pool, where a run whose
    staged folder shows it was running is retried (once, see :mod:`workbench.runner.staging`)."""
    import multiprocessing as mp
    from concurrent.futures.process import BrokenProcessPool

    queue = list(todo)
    while queue:
        again = []
        with ProcessPoolExecutor(
            max_workers=min(n_workers, len(queue)),
            mp_context=mp.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        ) as pool:
            futures = {pool.submit(_task, plan, *args): plan for plan in queue}
            try:
                for fut in as_completed(futures):
                    if isinstance(fut.exception(), BrokenProcessPool):
                        again.append(futures[fut])
                    else:
                        done(_outcome(fut, futures[fut]))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        queue = again


def _outcome(fut, plan: RunPlan) -> RunOutcome:
    try:
        return fut.result()
    except Exception as e:  # the task itself failed (e.g. Dask gave up on it): the run failed;
        # its run folder (an earlier run, or none) is left as it was: staged runs publish whole
        m = {"status": "failed", "error": {"ename": type(e).__name__, "evalue": str(e)}}
        return RunOutcome(
            notebook=plan.notebook.name,
            run_name=plan.run_name,
            run_dir=plan.run_dir,
            status="failed",
            duration_s=0.0,
            manifest=m,
        )


def _run_dask(todo, args, n_workers, client, done, address=None, stage=None) -> None:
    from dask.distributed import LocalCluster, wait

    cluster = None
    if client is None:
        from dask.distributed import Client

        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
    try:
        plans = {}
        for plan in todo:
            fut = client.submit(
                _task,
                plan,
                *args,
                pure=False,
                key=f"workbench-run-{plan.notebook.stem}-{plan.run_name}-{plan.key}",
            )
            plans[fut.key] = (fut, plan)
        pending = {f for f, _ in plans.values()}
        lost_since = None
        while pending:
            cancelled = False
            try:
                finished = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED").done
            except (TimeoutError, OSError):
                finished = set()
            except CancelledError:  # the scheduler dropped them (connection lost, or shut down)
                finished, cancelled = {f for f in pending if f.status != "pending"}, True
            dropped = []
            for fut in finished:
                pending.discard(fut)
                if fut.status == "cancelled":
                    dropped.append(fut)
                else:
                    done(_outcome(fut, plans[fut.key][1]))
            if client.status == "running":
                for fut in dropped:  # cancelled by the cluster, scheduler still up: runs failed
                    done(_outcome(fut, plans[fut.key][1]))
                lost_since, cancelled = None, False
                continue
            pending.update(dropped)
            lost_since = lost_since or time.monotonic()
            if cancelled or time.monotonic() - lost_since > DASK_LOST_S:
                if stage is not None:
                    close_stage(stage)  # a run finishing later on a live worker publishes nothing
                raise RunError(
                    f"the Dask scheduler{f' at {address}' if address else ''} stopped answering "
                    f"({len(pending)} run(s) unfinished). Finished runs are kept; start the "
                    "scheduler again and re-run the same command to resume."
                )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
