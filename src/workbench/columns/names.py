"""Column arguments: the data frame and spec, column names checked to exist, alpha, fingerprints."""

from __future__ import annotations

import difflib
import hashlib
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import (
    AlphaError,
    ColumnListError,
    ColumnNotFoundError,
    MissingColumnArgumentError,
    ParameterError,
)

N_EXAMPLES = 5
N_COLUMNS_SHOWN = 25


# ------------------------------------------------------------------------------------ arguments
def check_alpha(alpha: Any) -> float:
    """Return ``alpha`` as a float in (0, 1) or raise :class:`~workbench.exceptions.AlphaError`.

    Examples
    --------
    >>> check_alpha(0.05)
    0.05
    >>> check_alpha(1.5)
    Traceback (most recent call last):
    ...
    workbench.exceptions.AlphaError: `alpha` must be a number in (0, 1), e.g. 0.05 for 95% intervals; got 1.5.
    """
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        a = float("nan")
    if isinstance(alpha, bool) or not 0 < a < 1:
        raise AlphaError(
            f"`alpha` must be a number in (0, 1), e.g. 0.05 for 95% intervals; got {alpha!r}."
        )
    return a


def months_per_unit(unit: str, *, argument: str = "tenure_unit", func: str | None = None) -> float:
    """How many months one ``unit`` of tenure is (:func:`workbench.data.units.unit_factor`).

    Examples
    --------
    >>> months_per_unit("years")
    12.0
    """
    from ..data.units import UNITS, unit_factor

    if unit not in UNITS:
        raise ParameterError(
            f"{_where(func)}`{argument}` must be one of {list(UNITS)}, got {unit!r}."
        )
    return unit_factor(unit, "months")


def _where(func: str | None) -> str:
    return f"{func}: " if func else ""


def resolve_frame(data: Any, *, func: str | None = None) -> tuple[pd.DataFrame, Any]:
    """``(frame, spec)`` from a Dataset (``spec`` its role spec) or a DataFrame (``spec`` None).

    Examples
    --------
    >>> frame, spec = resolve_frame(pd.DataFrame({"t": [1.0]}))
    >>> spec is None
    True
    """
    frame = getattr(data, "frame", None)
    if isinstance(frame, pd.DataFrame) and hasattr(data, "spec"):
        return frame, data.spec
    if isinstance(data, pd.DataFrame):
        return data, None
    from ..aggregate.dataset import refuse_rows

    refuse_rows(data, func)
    raise ParameterError(
        f"{_where(func)}`data` must be a workbench Dataset or a pandas DataFrame, got "
        f"{type(data).__name__}. Load data with workbench.data.load_dataset(...) or pass a DataFrame."
    )


def data_fingerprint(data: Any) -> str:
    """The Dataset's fingerprint, or for a DataFrame the same kind of hash of its content.

    Examples
    --------
    >>> len(data_fingerprint(pd.DataFrame({"t": [1.0, 2.0]})))
    16
    """
    fp = getattr(data, "fingerprint", None)
    if isinstance(fp, str):
        return fp
    frame, _ = resolve_frame(data)
    h = hashlib.sha256()
    try:
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists): fall back to their text
        h.update(frame.astype(str).to_csv(index=False).encode())
    h.update(",".join(map(str, frame.columns)).encode())
    return h.hexdigest()[:16]


def columns_fingerprint(frame: pd.DataFrame, columns: Any) -> str:
    """A 16-hex hash of ``columns`` of ``frame`` (names and values, in row order): what a result
    computed from a DataFrame records as its data fingerprint. Numbers hash their bytes; other
    columns their codes and level texts.

    Examples
    --------
    >>> f = pd.DataFrame({"t": [1.0, 2.0], "g": ["a", "b"]})
    >>> columns_fingerprint(f, ["t", "g"]) == columns_fingerprint(f.copy(), ["t", "g"])
    True
    >>> columns_fingerprint(f, ["t", "g"]) == columns_fingerprint(f.assign(t=[1.0, 3.0]), ["t", "g"])
    False
    """
    h = hashlib.blake2b(digest_size=8)
    for c in [c for c in dict.fromkeys(columns) if c is not None]:
        s = frame[c]
        h.update(f"|{c}:{s.dtype}|".encode())
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            h.update(np.ascontiguousarray(s.to_numpy()).view(np.uint8))
        else:
            codes, levels = pd.factorize(s, use_na_sentinel=True)
            h.update(codes.view(np.uint8))
            h.update("\x1f".join(map(str, levels)).encode())
    return h.hexdigest()


def fingerprint_of(data: Any, frame: pd.DataFrame, columns: Any) -> Any:
    """The data fingerprint for a result's meta: the Dataset's own, else (a DataFrame) the hash
    of the ``columns`` the analysis used, computed on first read of the result's meta
    (:class:`workbench.results.Deferred`)."""
    import functools

    from ..results import Deferred

    fp = getattr(data, "fingerprint", None)
    if isinstance(fp, str):
        return fp
    return Deferred(functools.partial(columns_fingerprint, frame, list(columns)))


def _not_found(frame: pd.DataFrame, column: Any, argument: str, func: str | None) -> None:
    names = [str(x) for x in frame.columns]
    close = difflib.get_close_matches(str(column), names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    shown = names[:N_COLUMNS_SHOWN]
    more = f" (and {len(names) - len(shown)} more)" if len(names) > len(shown) else ""
    raise ColumnNotFoundError(
        f"{_where(func)}`{argument}`={column!r} is not a column of the data.{hint} "
        f"Columns available: {shown}{more}.",
        column=str(column),
        rule="column present",
    )


def column_name(
    data: Any,
    value: Any = None,
    *,
    argument: str,
    role: str | None = None,
    required: bool = True,
    func: str | None = None,
) -> str | None:
    """The column that ``argument`` names, defaulting from the spec's ``role``; checked to exist.

    Raises
    ------
    MissingColumnArgumentError
        ``required`` and neither ``value`` nor the spec's ``role`` names a column.
    ColumnListError
        ``value`` is not a single column name.
    ColumnNotFoundError
        The column does not exist ("did you mean" lists close names).

    Examples
    --------
    >>> df = pd.DataFrame({"tenure": [1.0], "churned": [0]})
    >>> column_name(df, "tenure", argument="duration_col")
    'tenure'
    >>> column_name(df, "tenur", argument="duration_col")
    Traceback (most recent call last):
    ...
    workbench.exceptions.ColumnNotFoundError: `duration_col`='tenur' is not a column of the data. Did you mean 'tenure'? Columns available: ['tenure', 'churned'].
    """
    frame, spec = resolve_frame(data, func=func)
    if value is None and spec is not None and role is not None:
        value = getattr(spec, role, None)
    if value is None:
        if required:
            from_spec = f" or set the spec's `{role}` role" if role else ""
            raise MissingColumnArgumentError(
                f"{_where(func)}`{argument}` is required: pass {argument}='<column name>'{from_spec}."
            )
        return None
    if not isinstance(value, str):
        raise ColumnListError(
            f"{_where(func)}`{argument}` must be one column name (a string), got "
            f"{type(value).__name__} {value!r}."
        )
    if value not in frame.columns:
        _not_found(frame, value, argument, func)
    return value


def column_list(
    data: Any,
    value: Any,
    *,
    argument: str,
    role: str | None = None,
    func: str | None = None,
) -> list[str]:
    """A list of column names (``None`` -> the spec's ``role`` or ``[]``), each checked to exist.

    A single string is refused rather than read as a list of letters. Duplicates are removed,
    keeping the first occurrence.

    Raises
    ------
    ColumnListError
        ``value`` is a string, or not a list of strings.
    ColumnNotFoundError
        A name is not a column ("did you mean" lists close names).

    Examples
    --------
    >>> df = pd.DataFrame({"age": [30], "plan": ["a"]})
    >>> column_list(df, ["age", "plan"], argument="covariates")
    ['age', 'plan']
    >>> column_list(df, "age", argument="covariates")
    Traceback (most recent call last):
    ...
    workbench.exceptions.ColumnListError: `covariates` must be a list of column names, got the string 'age'; write covariates=['age'].
    """
    frame, spec = resolve_frame(data, func=func)
    if value is None and spec is not None and role is not None:
        value = getattr(spec, role, None)
    if value is None:
        return []
    if isinstance(value, str):
        raise ColumnListError(
            f"{_where(func)}`{argument}` must be a list of column names, got the string {value!r}; "
            f"write {argument}=[{value!r}]."
        )
    if isinstance(value, (pd.Index, pd.Series, np.ndarray)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ColumnListError(
            f"{_where(func)}`{argument}` must be a list of column names, got "
            f"{type(value).__name__} {value!r}."
        )
    bad = [v for v in value if not isinstance(v, str)]
    if bad:
        raise ColumnListError(
            f"{_where(func)}`{argument}` must hold column names (strings); got {bad[:N_EXAMPLES]!r}."
        )
    for v in value:
        if v not in frame.columns:
            _not_found(frame, v, argument, func)
    return list(dict.fromkeys(value))
