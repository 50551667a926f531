"""Notebook parameters: read the ``parameters`` cell, validate what a run is given, before running.

Every notebook's first code cell is tagged ``parameters`` and holds one literal per line::

    dataset: str = "synthetic"  # synthetic | telco | file
    n_customers: int = 20000  # synthetic only
    horizons: list = [6, 12, 24]  # months

:func:`read_parameters` turns that cell into :class:`NotebookParameter` objects (name, type,
default, help); :func:`validate_parameters` checks the values a run is given against them and
refuses unknown names and wrong types with a message that lists the valid parameters (papermill
itself only logs a warning for an unknown name).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..exceptions import ParameterError

PARAMETERS_TAG = "parameters"
TYPES: dict[str, type | tuple[type, ...]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
}
# Parameters whose (non-empty) value names a file or folder that must exist before a run starts.
PATH_PARAMETERS = ("data_path", "spec_path")


@dataclass(frozen=True)
class NotebookParameter:
    """One declared notebook parameter: ``name: type = default  # help``."""

    name: str
    type: str
    default: Any
    help: str = ""

    def describe(self) -> str:
        text = f"{self.name}: {self.type} = {self.default!r}"
        return f"{text}  # {self.help}" if self.help else text


def load_notebook(path: str | Path):
    """Read a notebook with nbformat, with a clear error for a missing or unreadable file."""
    import nbformat

    p = Path(path)
    if not p.is_file():
        folder = p.parent if p.parent.is_dir() else None
        hint = ""
        if folder is not None:
            names = sorted(x.name for x in folder.glob("*.ipynb"))
            hint = f" Notebooks in '{folder}': {', '.join(names) if names else 'none'}."
        raise ParameterError(
            f"notebook '{path}' does not exist.{hint} Check the path (relative paths start from "
            "the current directory)."
        )
    try:
        return nbformat.read(str(p), as_version=4)
    except Exception as e:  # nbformat raises several unrelated types for bad JSON
        raise ParameterError(f"notebook '{path}' cannot be read as a Jupyter notebook: {e}") from e


def parameters_cell(nb) -> tuple[int, Any] | None:
    """Index and cell of the first code cell tagged ``parameters`` (``None`` when absent)."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return i, cell
    return None


def _comment_of(line: str) -> str:
    """The ``# help`` text after the literal on a source line (quotes respected)."""
    import io
    import tokenize

    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        return ""
    return ""


def parse_parameters_source(
    source: str, *, where: str = "parameters cell"
) -> dict[str, NotebookParameter]:
    """Parse ``name: type = default  # help`` lines (see module docstring).

    Raises
    ------
    ParameterError
        A line that is not an annotated assignment of a literal, or an unsupported type.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ParameterError(f"{where}: line {e.lineno} is not valid Python: {e.msg}") from e
    lines = source.splitlines()
    out: dict[str, NotebookParameter] = {}
    for node in tree.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise ParameterError(
                f"{where}: line {node.lineno} must read `name: type = default  # help` "
                f"(got {ast.get_source_segment(source, node)!r})."
            )
        name = node.target.id
        type_name = ast.unparse(node.annotation)
        if type_name not in TYPES:
            raise ParameterError(
                f"{where}: parameter `{name}` has type {type_name!r}; use one of {', '.join(TYPES)}."
            )
        if node.value is None:
            raise ParameterError(
                f"{where}: parameter `{name}` needs a default (`{name}: {type_name} = ...`)."
            )
        try:
            default = ast.literal_eval(node.value)
        except ValueError as e:
            raise ParameterError(
                f"{where}: the default of `{name}` must be a literal, got "
                f"{ast.get_source_segment(source, node.value)!r}."
            ) from e
        last_line = lines[(node.end_lineno or node.lineno) - 1]
        out[name] = NotebookParameter(name, type_name, default, _comment_of(last_line))
    return out


def read_parameters(notebook: str | Path) -> dict[str, NotebookParameter]:
    """Declared parameters of ``notebook`` (an empty dict when it has no ``parameters`` cell).

    Examples
    --------
    >>> import nbformat, tempfile, os
    >>> nb = nbformat.v4.new_notebook()
    >>> cell = nbformat.v4.new_code_cell('alpha: float = 0.05  # significance level')
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells.append(cell)
    >>> path = os.path.join(tempfile.mkdtemp(), "nb.ipynb"); nbformat.write(nb, path)
    >>> read_parameters(path)["alpha"]
    NotebookParameter(name='alpha', type='float', default=0.05, help='significance level')
    """
    nb = load_notebook(notebook)
    found = parameters_cell(nb)
    if found is None:
        return {}
    return parse_parameters_source(found[1].source, where=f"{Path(notebook).name}: parameters cell")


def _type_ok(value: Any, type_name: str) -> bool:
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, TYPES[type_name])


def valid_list(declared: Mapping[str, NotebookParameter]) -> str:
    if not declared:
        return "this notebook declares no parameters (no code cell tagged 'parameters')"
    return "valid parameters: " + "; ".join(p.describe() for p in declared.values())


def validate_parameters(
    declared: Mapping[str, NotebookParameter],
    given: Mapping[str, Any],
    *,
    notebook: str = "notebook",
) -> dict[str, Any]:
    """Check ``given`` against ``declared``; return the given values (ints widened for floats).

    Raises
    ------
    ParameterError
        An unknown name or a value of the wrong type; the message lists the valid parameters.
    """
    out: dict[str, Any] = {}
    unknown = [k for k in given if k not in declared]
    if unknown:
        raise ParameterError(
            f"{notebook}: unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}; {valid_list(declared)}."
        )
    for name, value in given.items():
        p = declared[name]
        if not _type_ok(value, p.type):
            raise ParameterError(
                f"{notebook}: parameter `{name}` must be {p.type}, got {value!r} "
                f"({type(value).__name__}); {valid_list(declared)}."
            )
        if p.type == "list":
            _check_elements(p, value, notebook, declared)
        out[name] = float(value) if p.type == "float" else value
    return out


def _check_elements(p: NotebookParameter, value: list, notebook: str, declared) -> None:
    """A list whose default holds only numbers (or only text) must be given the same kind:
    ``stages: [0, 3, six]`` is refused here, not deep inside an analysis."""
    default = p.default if isinstance(p.default, list) else []
    if not default:
        return
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in default)
    textual = all(isinstance(x, str) for x in default)
    for x in value:
        bad = (numeric and (isinstance(x, bool) or not isinstance(x, (int, float)))) or (
            textual and not isinstance(x, str)
        )
        if bad:
            kind = "numbers" if numeric else "texts"
            raise ParameterError(
                f"{notebook}: parameter `{p.name}` must be a list of {kind} like its default "
                f"{p.default!r}, got element {x!r} ({type(x).__name__}) in {value!r}. "
                f'Write e.g. -p {p.name} "{p.default!r}".'
            )


def effective_parameters(
    declared: Mapping[str, NotebookParameter], given: Mapping[str, Any]
) -> dict:
    """Defaults overridden by the given values: what the notebook actually runs with."""
    eff = {k: p.default for k, p in declared.items()}
    eff.update(given)
    return eff


def parse_cli_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value read as a YAML literal (``12`` -> 12, ``[6, 12]`` -> list)."""
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text


def load_params_file(path: str | Path) -> dict[str, Any]:
    """Read a ``-f params.yml`` (YAML or JSON mapping of name -> value)."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(
            f"parameters file '{path}' does not exist; check the path given to -f."
        )
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise ParameterError(
            f"parameters file '{path}': {_yaml_problem(e)}. Check the YAML there; write one "
            "`name: value` per line."
        ) from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(
            f"parameters file '{path}' must hold a mapping `name: value`, got {type(data).__name__}. "
            "Write one `name: value` per line, e.g. `alpha: 0.1`."
        )
    return data


def _yaml_problem(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    if mark is not None:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return problem


def check_paths(
    params: Mapping[str, Any], *, notebook: str = "notebook", given: Mapping[str, Any] | None = None
) -> None:
    """Refuse a run whose ``data_path`` / ``spec_path`` names a file that does not exist.

    ``params`` hold the resolved (absolute) paths; ``given`` the values as the user wrote them.
    """
    from ..exceptions import DatasetNotFoundError

    for name in PATH_PARAMETERS:
        value = params.get(name)
        if value and not Path(str(value)).expanduser().exists():
            shown = (given or {}).get(name, value)
            raise DatasetNotFoundError(
                f"{notebook}: the data file '{shown}' named by parameter `{name}` does not exist "
                f"(resolved to '{Path(str(value)).expanduser().resolve()}'). Fix `{name}`; relative "
                "paths are taken from the current directory (`workbench run`) or the project root "
                "(batch files)."
            )


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
