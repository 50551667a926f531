"""The one reference-level rule (R's) and the one term-name style, ``contract[one_year]``."""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ReferenceLevelError
from .names import N_COLUMNS_SHOWN, _where


# ------------------------------------------------------------------------- categorical covariates
def is_categorical(s: pd.Series) -> bool:
    """A pandas Categorical, boolean, text or object column (numbers are treated as numeric)."""
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(s)
        or pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
    )


def _sort_key(v: Any):
    return (0, v, "") if isinstance(v, (int, float, np.integer, np.floating)) else (1, 0, str(v))


def categorical_levels(
    s: pd.Series, *, reference: Any = None, argument: str = "reference", func: str | None = None
) -> list:
    """The levels of ``s``, reference first: R's rule for factors.

    The reference is ``reference`` if given, else the first level of a pandas Categorical (the
    order the spec declares), else the first level in sorted order (``False`` before ``True``,
    numbers before text). The other levels keep their order (R's ``relevel``). Levels that do not
    occur are dropped from a Categorical's list.

    Raises
    ------
    ReferenceLevelError
        ``reference`` is not a level of ``s`` ("did you mean" lists close levels).

    Examples
    --------
    >>> categorical_levels(pd.Series(["two_year", "month", "one_year"]))
    ['month', 'one_year', 'two_year']
    >>> categorical_levels(pd.Series(["b", "a"], dtype=pd.CategoricalDtype(["b", "a"])))
    ['b', 'a']
    >>> categorical_levels(pd.Series(["two_year", "month"]), reference="two_year")
    ['two_year', 'month']
    """
    present = pd.unique(s.dropna())
    if isinstance(s.dtype, pd.CategoricalDtype):
        seen = set(present.tolist())
        levels = [c for c in s.dtype.categories if c in seen]
    else:
        levels = sorted(present.tolist(), key=_sort_key)
    if reference is None:
        return levels
    match = [lv for lv in levels if lv == reference or str(lv) == str(reference)]
    if not match:
        names = [str(lv) for lv in levels]
        close = difflib.get_close_matches(str(reference), names, n=2)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ReferenceLevelError(
            f"{_where(func)}`{argument}`={reference!r} is not a level of {s.name!r}.{hint} "
            f"Levels: {names[:N_COLUMNS_SHOWN]}."
        )
    return [match[0]] + [lv for lv in levels if lv is not match[0] and lv != match[0]]


def reference_level(s: pd.Series, *, reference: Any = None, func: str | None = None) -> Any:
    """The reference level of ``s`` under :func:`categorical_levels`' rule.

    Examples
    --------
    >>> reference_level(pd.Series([True, False]))
    False
    """
    levels = categorical_levels(s, reference=reference, func=func)
    return levels[0] if levels else None


def term_name(covariate: str, level: Any = None) -> str:
    """The one term-name style: ``covariate`` for a numeric term, ``covariate[level]`` for a level.

    Examples
    --------
    >>> term_name("contract", "one_year")
    'contract[one_year]'
    >>> term_name("age")
    'age'
    """
    return str(covariate) if level is None else f"{covariate}[{level}]"


def dummies(
    s: pd.Series, *, reference: Any = None, func: str | None = None
) -> tuple[pd.DataFrame, list]:
    """0/1 indicator columns for every level but the reference, named ``name[level]``.

    Returns ``(frame, levels)``; ``levels[0]`` is the reference. Missing values stay missing.

    Examples
    --------
    >>> X, levels = dummies(pd.Series(["a", "b", "c", "b"], name="plan"))
    >>> list(X.columns), levels[0]
    (['plan[b]', 'plan[c]'], 'a')
    """
    levels = categorical_levels(s, reference=reference, func=func)
    values = s.to_numpy(dtype=object)
    miss = s.isna().to_numpy()
    cols = {}
    for lv in levels[1:]:
        col = np.asarray([v == lv for v in values], dtype=float)
        col[miss] = np.nan
        cols[term_name(str(s.name), lv)] = col
    return pd.DataFrame(cols, index=s.index), levels


#: the most groups a ``group_col`` / segment may have before it is refused (a notebook parameter)
MAX_GROUPS = 20


def check_grouping(
    data: Any,
    column: str | None,
    *,
    argument: str = "group_col",
    max_levels: int = MAX_GROUPS,
    func: str | None = None,
    limit_argument: str = "max_levels",
) -> str | None:
    """Refuse a grouping column that is personal, the id, continuous or has too many levels.

    ``limit_argument`` is the name under which the caller exposes ``max_levels`` (e.g.
    ``max_groups``), so the message points at an argument the user can pass.

    Checked before any fit: a group per surname prints personal values; a group per value of a
    continuous column runs thousands of fits. Messages give the count, never the values.

    Raises
    ------
    ParameterError
        ``column`` is the spec's id or declared ``personal``
        (:func:`workbench.privacy.check_not_personal`).
    TooManyLevelsError
        More than ``max_levels`` distinct values (continuous columns: a binning suggestion).

    Examples
    --------
    >>> check_grouping(pd.DataFrame({"plan": ["a", "b", "a"]}), "plan")
    'plan'
    """
    from ..exceptions import TooManyLevelsError
    from ..privacy import check_not_personal
    from .names import _not_found, resolve_frame

    if column is None:
        return None
    if getattr(data, "aggregated", False) is True:  # cell counts: the counted columns
        frame = data.cells.cells[data.columns]
    else:
        frame, _ = resolve_frame(data, func=func)
    if column not in frame.columns:
        _not_found(frame, column, argument, func)
    check_not_personal(data, column, argument=argument)
    s = frame[column]
    k = int(s.nunique(dropna=True))
    if k <= max_levels:
        return column
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    fix = (
        f"it looks continuous: bin it first, e.g. df['{column}_band'] = pd.qcut(df[{column!r}], 4), "
        "and group by the bands"
        if numeric and not isinstance(s.dtype, pd.CategoricalDtype)
        else "merge rare levels into fewer groups"
    )
    raise TooManyLevelsError(
        f"{_where(func)}`{argument}`={column!r} has {k:,} distinct values, more than "
        f"{limit_argument}={max_levels}; {fix}, or raise `{limit_argument}`."
    )
