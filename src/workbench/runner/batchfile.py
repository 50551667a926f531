"""Batch files: parsing and checking (see :mod:`workbench.runner.batch` for the format).

Errors name the file, the line of the offending key and the fix. Entry rules: each explicit
notebook entry is a job of its own; a glob adds each notebook once; an explicit entry after a
glob overrides the glob's job (later wins); identical runs are merged with a warning when the
batch is planned.
"""

from __future__ import annotations

import difflib
import glob as globmod
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import project_root
from ..exceptions import ParameterError
from .execute import DEFAULT_KERNEL, DEFAULT_TIMEOUT, slug
from .parameters import PATH_PARAMETERS

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
    jobs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.jobs:
            self.jobs = [
                {"notebook": nb, "parameters": {}, "timeout": None, "glob": False}
                for nb in self.notebooks
            ]


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
) -> list[dict]:
    """The jobs an entry list names: notebook, its entry's parameters and timeout.

    Rules: each explicit entry is a job of its own, so one notebook listed twice with different
    parameters runs with both; a glob adds the notebooks it matches once; an explicit
    ``{path, parameters, timeout}`` entry for a notebook a glob already matched replaces the
    glob's job (the later entry overrides). Identical runs are merged later (:func:`plan_batch`).
    """
    if isinstance(entries, (str, dict)):
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise _error(
            source,
            lines,
            "notebooks",
            f"`notebooks` must be a path, a glob or a non-empty list of them, got {entries!r}.",
        )
    jobs: list[dict] = []
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
                    f"{{path: ..., parameters: {{...}}, timeout: S}}, got {entry!r}. Use only the keys "
                    "path, parameters and timeout.",
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
        is_glob = globmod.has_magic(str(pattern))
        if is_glob:
            matches = sorted(Path(p) for p in globmod.glob(str(pattern)))
            if not matches:
                raise _error(
                    source,
                    lines,
                    "notebooks",
                    f"'{entry}' matches no notebook (looked for {pattern}). Check the pattern; relative "
                    "patterns start at the project root.",
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
                    f"'{folder}': {', '.join(names) if names else 'none'}. Fix the path (relative paths start "
                    "at the project root).",
                )
            matches = [pattern]
        for m in matches:
            m = m.resolve()
            if m.suffix != ".ipynb":
                continue
            job = {"notebook": m, "parameters": dict(params), "timeout": timeout, "glob": is_glob}
            same = [j for j in jobs if j["notebook"] == m]
            if is_glob and same:
                continue  # a glob never repeats a notebook already listed
            globbed = [j for j in same if j["glob"]]
            if globbed:  # an explicit entry after a glob overrides the glob's entry (later wins)
                globbed[0].update(job)
            else:
                jobs.append(job)
    return jobs


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
        raise ParameterError(
            f"batch file '{path}' does not exist; check the path (see batches/ for examples)."
        )
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
            f"batch file {source}: expected a mapping with at least `notebooks:`, got "
            f"{type(data).__name__}. Start the file with e.g. `notebooks: [notebooks/*.ipynb]`."
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
            f"batch file {source}: `notebooks:` is missing (a path, glob or list). Add e.g. "
            "`notebooks: [notebooks/02-tenure-survival.ipynb]`."
        )
    root = project_root()
    jobs = _resolve_notebooks(data["notebooks"], source, lines, root)
    notebooks = list(dict.fromkeys(j["notebook"] for j in jobs))
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
                source,
                lines,
                "grid",
                f"the grid expands to zero runs: `{name}` has no values. Give it at least one "
                "value, or remove it.",
            )
    runs = data.get("runs")
    if runs is not None:
        if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
            raise _error(source, lines, "runs", f"`runs` must be a list of mappings, got {runs!r}.")
        if not runs:
            raise _error(
                source,
                lines,
                "runs",
                "`runs` is empty: the batch expands to zero runs. Add a run such as `- {}` or "
                "remove `runs:`.",
            )
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
        jobs=jobs,
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

    def key(s: Mapping, k: str) -> str:
        return json.dumps(s.get(k), sort_keys=True, default=str)

    varying = [
        k for k in dict.fromkeys(k for s in sets for k in s) if len({key(s, k) for s in sets}) > 1
    ]
    for k in list(varying):  # a path or list that goes with another parameter (data_path with
        # dataset) would only lengthen the name: left out when the others tell the runs apart
        if k in PATH_PARAMETERS or any(isinstance(s.get(k), (list, dict)) for s in sets):
            rest = [j for j in varying if j != k]
            value_of: dict[tuple, str] = {}  # the other parameters' values -> this one's
            for s in sets:
                if value_of.setdefault(tuple(key(s, j) for j in rest), key(s, k)) != key(s, k):
                    break
            else:
                varying = rest
    names = []
    for i, s in enumerate(sets):
        bits = "_".join(f"{k}={s.get(k)}" for k in varying if k in s)
        name = slug(f"{spec.name}-{bits}" if bits else f"{spec.name}-{i + 1}", 100)
        if name in names:
            name = f"{name}-{i + 1}"
        names.append(name)
    return names
