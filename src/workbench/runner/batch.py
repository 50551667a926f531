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

import difflib
import glob as globmod
import itertools
import json
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import project_root, reports_dir
from ..exceptions import ParameterError
from . import manifest as mf
from .execute import (
    DEFAULT_KERNEL,
    DEFAULT_TIMEOUT,
    RunOutcome,
    RunPlan,
    execute_plan,
    plan_run,
    slug,
)

BATCH_KEYS = {
    "name": "batch name (default: the file's stem)",
    "notebooks": "a path or glob, or a list of them (required)",
    "parameters": "mapping given to every run",
    "grid": "mapping name -> list of values (cartesian product)",
    "runs": "list of parameter mappings",
    "timeout": "per-run wall-clock limit in seconds",
    "workers": "number of runs in parallel",
    "show_code": "show code cells in the reports",
    "kernel": "Jupyter kernel name",
    "compare": "recorded results to compare in summary.html",
}
BATCH_FILE = "batch.json"


@dataclass
class BatchSpec:
    """A parsed batch file (see module docstring)."""

    name: str
    source: str
    notebooks: list[Path]
    parameter_sets: list[dict]
    timeout: float = DEFAULT_TIMEOUT
    workers: int | None = None
    show_code: bool = False
    kernel: str = DEFAULT_KERNEL
    compare: list[str] | None = None
    notebook_parameters: dict = field(default_factory=dict)
    notebook_timeouts: dict = field(default_factory=dict)


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
def _key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each top-level key of a YAML mapping."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _error(source: str, lines: Mapping[str, int], key: str | None, problem: str) -> ParameterError:
    where = f"{source}"
    if key is not None and key in lines:
        where += f", line {lines[key]} (`{key}`)"
    return ParameterError(f"batch file {where}: {problem}")


def _resolve_notebooks(
    entries: Any, source: str, lines: Mapping[str, int], root: Path
) -> tuple[list[Path], dict[Path, dict], dict[Path, float]]:
    """Paths of the notebooks an entry list names, per-notebook parameters and timeouts."""
    if isinstance(entries, (str, dict)):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise _error(
            source,
            lines,
            "notebooks",
            f"`notebooks` must be a path, a glob or a non-empty list of them, got {entries!r}.",
        )
    found: list[Path] = []
    extra: dict[Path, dict] = {}
    timeouts: dict[Path, float] = {}
    for entry in entries:
        params: dict = {}
        timeout = None
        if isinstance(entry, dict):
            if set(entry) - {"path", "parameters", "timeout"} or not isinstance(
                entry.get("path"), str
            ):
                raise _error(
                    source,
                    lines,
                    "notebooks",
                    "a notebook entry is a path or "
                    f"{{path: ..., parameters: {{...}}, timeout: S}}, got {entry!r}.",
                )
            params = entry.get("parameters") or {}
            if not isinstance(params, dict):
                raise _error(
                    source,
                    lines,
                    "notebooks",
                    f"`parameters` of {entry['path']!r} must be a mapping.",
                )
            timeout = entry.get("timeout")
            if timeout is not None and (
                isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
            ):
                raise _error(
                    source,
                    lines,
                    "notebooks",
                    f"`timeout` of {entry['path']!r} must be a positive number of seconds, "
                    f"got {timeout!r}.",
                )
            entry = entry["path"]
        if not isinstance(entry, str):
            raise _error(
                source,
                lines,
                "notebooks",
                f"a notebook entry must be a path or glob, got {entry!r}.",
            )
        pattern = Path(entry).expanduser()
        if not pattern.is_absolute():
            pattern = root / pattern
        if globmod.has_magic(str(pattern)):
            matches = sorted(Path(p) for p in globmod.glob(str(pattern)))
            if not matches:
                raise _error(
                    source,
                    lines,
                    "notebooks",
                    f"'{entry}' matches no notebook (looked for {pattern}).",
                )
        else:
            if not pattern.is_file():
                folder = pattern.parent
                names = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
                raise _error(
                    source,
                    lines,
                    "notebooks",
                    f"unknown notebook '{entry}' ({pattern} does not exist). Notebooks in "
                    f"'{folder}': {', '.join(names) if names else 'none'}.",
                )
            matches = [pattern]
        for m in matches:
            m = m.resolve()
            if m.suffix == ".ipynb" and m not in found:
                found.append(m)
                extra[m] = dict(params)
                if timeout is not None:
                    timeouts[m] = float(timeout)
    return found, extra, timeouts


RESERVED_NAMES = ("index", "summary", "batch", "assets", "static")


def check_batch_name(name: str, source: str, lines: Mapping[str, int]) -> None:
    """A batch name becomes a folder next to the notebooks' folders and ``index.html``: refuse a
    name with a file suffix (``index.html``) or a reserved name."""
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and suffix.isalpha():
        raise _error(
            source,
            lines,
            "name",
            f"`name: {name}` looks like a file name (suffix '.{suffix}'); the batch's folder would "
            f"collide with the reports' files. Use a plain name such as `name: {slug(stem) or 'my-batch'}`.",
        )
    if name.lower() in RESERVED_NAMES or name.startswith((".", "_")):
        raise _error(
            source,
            lines,
            "name",
            f"`name: {name}` is reserved by the reports folder; use e.g. `name: {name.strip('._')}-batch`.",
        )


def parameter_sets(
    parameters: Mapping[str, Any] | None,
    grid: Mapping[str, list] | None,
    runs: list[Mapping] | None,
) -> list[dict]:
    """``parameters`` + each of ``runs`` + each grid point (cartesian product)."""
    base = dict(parameters or {})
    run_list = [dict(r) for r in runs] if runs is not None else [{}]
    names = list((grid or {}).keys())
    points = (
        [dict(zip(names, combo)) for combo in itertools.product(*[grid[n] for n in names])]
        if names
        else [{}]
    )
    return [{**base, **r, **g} for r in run_list for g in points]


def load_batch(path: str | Path) -> BatchSpec:
    """Read and check a batch file (errors name the line and the problem).

    Raises
    ------
    ParameterError
        Missing file, malformed YAML, unknown keys, wrong types, unknown notebooks, zero runs.
    """
    p = Path(path)
    source = str(path)
    if not p.is_file():
        raise ParameterError(f"batch file '{path}' does not exist.")
    text = p.read_text()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        ctx = getattr(e, "context", None)
        loc = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ParameterError(
            f"batch file {source}: malformed YAML at {loc}{problem}"
            + (f" ({ctx})" if ctx else "")
            + ". Check the indentation and the `key: value` syntax there."
        ) from e
    if not isinstance(data, dict):
        raise ParameterError(
            f"batch file {source}: expected a mapping with at least `notebooks:`, got {type(data).__name__}."
        )
    lines = _key_lines(text)
    unknown = [k for k in data if k not in BATCH_KEYS]
    if unknown:
        raise _error(
            source,
            lines,
            unknown[0],
            f"unknown key {unknown[0]!r}"
            + (
                f" (did you mean {close[0]!r}?)"
                if (close := difflib.get_close_matches(str(unknown[0]), list(BATCH_KEYS), n=1))
                else ""
            )
            + "; valid keys: "
            + "; ".join(f"{k} ({v})" for k, v in BATCH_KEYS.items())
            + ".",
        )
    if "notebooks" not in data:
        raise ParameterError(
            f"batch file {source}: `notebooks:` is missing (a path, glob or list)."
        )
    root = project_root()
    notebooks, nb_params, nb_timeouts = _resolve_notebooks(data["notebooks"], source, lines, root)
    for key in ("parameters", "grid"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise _error(
                source, lines, key, f"`{key}` must be a mapping name: value, got {data[key]!r}."
            )
    grid = data.get("grid") or {}
    for name, values in grid.items():
        if not isinstance(values, list):
            raise _error(
                source, lines, "grid", f"grid `{name}` must be a list of values, got {values!r}."
            )
        if not values:
            raise _error(
                source, lines, "grid", f"the grid expands to zero runs: `{name}` has no values."
            )
    runs = data.get("runs")
    if runs is not None:
        if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
            raise _error(source, lines, "runs", f"`runs` must be a list of mappings, got {runs!r}.")
        if not runs:
            raise _error(source, lines, "runs", "`runs` is empty: the batch expands to zero runs.")
    sets = parameter_sets(data.get("parameters"), grid, runs)
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise _error(
            source,
            lines,
            "timeout",
            f"`timeout` must be a positive number of seconds, got {timeout!r}.",
        )
    workers = data.get("workers")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
        raise _error(
            source, lines, "workers", f"`workers` must be a positive integer, got {workers!r}."
        )
    compare = data.get("compare")
    if compare is not None and not (
        isinstance(compare, list) and all(isinstance(c, str) for c in compare)
    ):
        raise _error(
            source,
            lines,
            "compare",
            f"`compare` must be a list of recorded names, got {compare!r}.",
        )
    name = data.get("name", p.stem)
    if not isinstance(name, str) or not name.strip():
        raise _error(source, lines, "name", f"`name` must be a non-empty string, got {name!r}.")
    check_batch_name(slug(name), source, lines)
    return BatchSpec(
        name=slug(name),
        source=source,
        notebooks=notebooks,
        parameter_sets=sets,
        notebook_parameters=nb_params,
        notebook_timeouts=nb_timeouts,
        timeout=float(timeout),
        workers=workers,
        show_code=bool(data.get("show_code", False)),
        kernel=str(data.get("kernel", DEFAULT_KERNEL)),
        compare=compare,
    )


def _run_names(spec: BatchSpec) -> list[str]:
    """One readable, unique run name per parameter set: the batch name plus what varies."""
    sets = spec.parameter_sets
    if len(sets) == 1:
        return [spec.name]
    varying = [
        k
        for k in dict.fromkeys(k for s in sets for k in s)
        if len({json.dumps(s.get(k), sort_keys=True, default=str) for s in sets}) > 1
    ]
    names = []
    for i, s in enumerate(sets):
        bits = "_".join(f"{k}={s.get(k)}" for k in varying if k in s)
        name = slug(f"{spec.name}-{bits}" if bits else f"{spec.name}-{i + 1}", 80)
        if name in names:
            name = f"{name}-{i + 1}"
        names.append(name)
    return names


def plan_batch(spec: BatchSpec, *, out: str | Path | None = None) -> list[RunPlan]:
    """Validate every run of ``spec`` (parameters, data files) before anything executes."""
    root = project_root()
    cache: dict = {}
    plans = []
    names = _run_names(spec)
    for nb in spec.notebooks:
        for params, name in zip(spec.parameter_sets, names):
            try:
                plans.append(
                    plan_run(
                        nb,
                        {**params, **spec.notebook_parameters.get(nb, {})},
                        run_name=name,
                        out=out,
                        paths_relative_to=root,
                        dataset_cache=cache,
                    )
                )
            except ParameterError as e:
                raise ParameterError(f"batch {spec.source}: {e}") from e
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


def _worker_init() -> None:  # pragma: no cover - runs in pool workers
    import signal

    signal.signal(signal.SIGINT, _on_sigint)


def _task(
    plan: RunPlan, timeouts: Mapping[str, float], show_code: bool, kernel: str, batch: str
) -> RunOutcome:
    """What a worker process (or Dask task) does: one run, start to finish."""
    global _RUNNING
    if _INTERRUPTED:
        raise KeyboardInterrupt("batch interrupted before this run started")
    _RUNNING = True
    try:
        timeout = timeouts.get(str(plan.notebook), timeouts["*"])
        return execute_plan(
            plan, timeout=timeout, show_code=show_code, kernel_name=kernel, batch=batch
        )
    finally:
        _RUNNING = False


def _state(
    spec: BatchSpec, outcomes: list[RunOutcome], pending: int, out_root: Path, started: str
) -> None:
    folder = out_root / spec.name
    folder.mkdir(parents=True, exist_ok=True)
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
    plans = plan_batch(spec, out=out_root)
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
    timeouts = {"*": t_run, **{str(k): float(v) for k, v in spec.notebook_timeouts.items()}}
    args = (timeouts, spec.show_code, spec.kernel, spec.name)

    def done(outcome: RunOutcome) -> None:
        outcomes.append(outcome)
        bar.update(1)
        bar.set_postfix_str(f"{Path(outcome.notebook).stem}: {outcome.status}")
        _state(spec, outcomes, len(plans) - len(outcomes), out_root, started)

    try:
        if todo and executor == "local":
            _run_local(todo, args, n_workers, done)
        elif todo:
            _run_dask(todo, args, n_workers, scheduler, done)
    finally:
        bar.close()
        _state(spec, outcomes, len(plans) - len(outcomes), out_root, started)
        from .index import write_batch_summary, write_index

        summary = write_batch_summary(out_root, spec.name)
        index = write_index(out_root) if build_index else None
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "failed", "timed_out")}
    counts["skipped"] = sum(o.skipped for o in outcomes)
    return BatchOutcome(
        spec.name, outcomes, summary, index, round(time.perf_counter() - t0, 3), counts
    )


def _run_local(todo, args, n_workers, done) -> None:
    import multiprocessing as mp

    with ProcessPoolExecutor(
        max_workers=min(n_workers, len(todo)),
        mp_context=mp.get_context("spawn"),
        initializer=_worker_init,
    ) as pool:
        futures = {pool.submit(_task, plan, *args): plan for plan in todo}
        try:
            for fut in as_completed(futures):
                done(_outcome(fut, futures[fut]))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _outcome(fut, plan: RunPlan) -> RunOutcome:
    try:
        return fut.result()
    except Exception as e:  # the worker itself died: record the run as failed, keep going
        m = mf.read_manifest(plan.run_dir) or {}
        m.update(status="failed", error={"ename": type(e).__name__, "evalue": str(e)})
        if plan.run_dir.is_dir():
            mf.write_manifest(plan.run_dir, m)
        return RunOutcome(
            notebook=plan.notebook.name,
            run_name=plan.run_name,
            run_dir=plan.run_dir,
            status="failed",
            duration_s=float(m.get("duration_s") or 0),
            manifest=m,
        )


def _run_dask(todo, args, n_workers, scheduler, done) -> None:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
    try:
        futures = {}
        for plan in todo:
            fut = client.submit(
                _task,
                plan,
                *args,
                pure=False,
                key=f"workbench-run-{plan.notebook.stem}-{plan.run_name}-{plan.key}",
            )
            futures[fut.key] = (fut, plan)
        for fut in dask_completed([f for f, _ in futures.values()]):
            done(_outcome(fut, futures[fut.key][1]))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
