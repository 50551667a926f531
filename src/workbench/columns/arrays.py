"""Checked arrays: tenure, event, entry and weights, and :func:`resolve` doing all in one call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import (
    ColumnTypeError,
    EntryAfterExitError,
    EventCodingError,
    MissingValueError,
    NegativeValueError,
    NonFiniteValueError,
    ParameterError,
    RowsExcludedWarning,
)
from .names import (
    N_EXAMPLES,
    _where,
    column_list,
    column_name,
    fingerprint_of,
    months_per_unit,
    resolve_frame,
)


# ---------------------------------------------------------------------------------- arrays
def _examples(mask: np.ndarray, values: Any) -> str:
    pos = np.flatnonzero(mask)[:N_EXAMPLES]
    # a Series is read at the few positions only (no object copy of a million rows)
    vals = (
        values.iloc[pos] if isinstance(values, pd.Series) else np.asarray(values, dtype=object)[pos]
    )
    return ", ".join(f"{int(p)} ({v!r})" for p, v in zip(pos, vals))


def _fail(cls, func, argument, column, mask, values, problem, fix, rule):
    n = int(np.count_nonzero(mask))
    raise cls(
        f"{_where(func)}`{argument}` column {column!r}: {n:,} of {len(mask):,} row(s) {problem} "
        f"(first row positions and values: {_examples(mask, values)}). {fix}",
        column=column,
        rule=rule,
        n_rows=n,
        examples=[int(p) for p in np.flatnonzero(mask)[:N_EXAMPLES]],
    )


def _numeric(
    frame: pd.DataFrame,
    column: str,
    *,
    argument: str,
    what: str,
    func: str | None,
    fix_missing: str,
    fix_negative: str | None,
) -> np.ndarray:
    s = frame[column]
    raw = s  # the values as received, for the error message
    if pd.api.types.is_bool_dtype(s):
        _fail(
            ColumnTypeError,
            func,
            argument,
            column,
            np.ones(len(s), dtype=bool),
            raw,
            f"are booleans, not numbers ({what} must be numeric)",
            f"Pass the numeric {what} column, or convert it: df[{column!r}].astype(float).",
            "numeric",
        )
    if not pd.api.types.is_numeric_dtype(s):
        num = pd.to_numeric(s, errors="coerce")
        text = (num.isna() & s.notna()).to_numpy()
        if text.any():
            _fail(
                ColumnTypeError,
                func,
                argument,
                column,
                text,
                raw,
                f"are not numbers ({what} must be numeric; the column's dtype is {s.dtype})",
                f"Convert it first, e.g. pd.to_numeric(df[{column!r}], errors='raise').",
                "numeric",
            )
        stored = np.asarray([isinstance(v, (str, bytes)) for v in raw], dtype=bool)
        if stored.any():
            _fail(
                ColumnTypeError,
                func,
                argument,
                column,
                stored,
                raw,
                f"hold numbers stored as text (dtype {s.dtype})",
                f"Convert the column first: df[{column!r}] = pd.to_numeric(df[{column!r}]).",
                "numeric",
            )
        s = num
    x = s.to_numpy(dtype=float, na_value=np.nan)
    nan = np.isnan(x)
    if nan.any():
        _fail(
            MissingValueError,
            func,
            argument,
            column,
            nan,
            raw,
            f"have no {what}",
            fix_missing,
            "present",
        )
    inf = ~np.isfinite(x)
    if inf.any():
        _fail(
            NonFiniteValueError,
            func,
            argument,
            column,
            inf,
            raw,
            f"have an infinite {what}",
            "Replace infinite values by the observed follow-up (a censored customer's time so far).",
            "finite",
        )
    if fix_negative is not None:
        neg = x < 0
        if neg.any():
            _fail(
                NegativeValueError,
                func,
                argument,
                column,
                neg,
                raw,
                f"have a negative {what}",
                fix_negative,
                "non-negative",
            )
    return x


def tenure_array(
    frame: pd.DataFrame, column: str, *, argument: str = "duration_col", func: str | None = None
) -> np.ndarray:
    """Tenure as floats: numeric (not text, not boolean), complete, finite and >= 0.

    Raises
    ------
    ColumnTypeError, MissingValueError, NonFiniteValueError, NegativeValueError

    Examples
    --------
    >>> tenure_array(pd.DataFrame({"t": [3, 0, 12]}), "t")
    array([ 3.,  0., 12.])
    """
    return _numeric(
        frame,
        column,
        argument=argument,
        what="tenure",
        func=func,
        fix_missing="Every customer needs a tenure; for active customers use the time since joining "
        "(censored), or remove these rows explicitly before the analysis.",
        fix_negative="Tenure cannot be negative; check these customers' start and end dates.",
    )


def event_array(
    frame: pd.DataFrame, column: str, *, argument: str = "event_col", func: str | None = None
) -> np.ndarray:
    """The event indicator as floats 0.0/1.0 (1 = churned); booleans are accepted.

    Raises
    ------
    MissingValueError
        The column has missing values.
    EventCodingError
        Values other than 0/1 (1/2-coded events get a hint about R's ``Surv`` convention; text gets
        a recoding example).

    Examples
    --------
    >>> event_array(pd.DataFrame({"e": [True, False]}), "e")
    array([1., 0.])
    >>> event_array(pd.DataFrame({"e": [1, 2, 2]}), "e")
    Traceback (most recent call last):
    ...
    workbench.exceptions.EventCodingError: `event_col` column 'e': 2 of 3 row(s) are not 0 or 1 (first row positions and values: 1 (2), 2 (2)). The values look coded 1/2 as in R's Surv(time, status) convention (1 = censored, 2 = event); recode them: df['e'] = (df['e'] == 2).astype(int).
    """
    s = frame[column]
    raw = s  # the values as received, for the error message
    miss = s.isna().to_numpy()
    if miss.any():
        _fail(
            MissingValueError,
            func,
            argument,
            column,
            miss,
            raw,
            "have no event value",
            "Code churned customers as 1 and still-active (censored) customers as 0.",
            "present",
        )
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(s):
        levels = sorted(map(str, pd.unique(s)))[:N_EXAMPLES]
        _fail(
            EventCodingError,
            func,
            argument,
            column,
            np.ones(len(s), dtype=bool),
            raw,
            f"are text (dtype {s.dtype}, values {levels}), not 0 or 1",
            f"Recode it, e.g. df[{column!r}] = (df[{column!r}] == {levels[-1]!r}).astype(int) with the "
            "value that means churned.",
            "event 0/1",
        )
    x = s.to_numpy(dtype=float)
    bad = ~np.isin(x, (0.0, 1.0))
    if bad.any():
        seen = set(np.unique(x).tolist())
        if seen <= {1.0, 2.0}:
            fix = (
                "The values look coded 1/2 as in R's Surv(time, status) convention (1 = censored, "
                f"2 = event); recode them: df[{column!r}] = (df[{column!r}] == 2).astype(int)."
            )
        else:
            fix = "Code churned customers as 1 and still-active (censored) customers as 0."
        _fail(
            EventCodingError, func, argument, column, bad, raw, "are not 0 or 1", fix, "event 0/1"
        )
    return x


def entry_array(
    frame: pd.DataFrame,
    column: str,
    exit: np.ndarray,
    *,
    argument: str = "entry_col",
    func: str | None = None,
) -> np.ndarray:
    """Entry (left-truncation) times: numeric, complete, finite, >= 0 and <= the exit time.

    Raises
    ------
    ColumnTypeError, MissingValueError, NonFiniteValueError, NegativeValueError, EntryAfterExitError

    Examples
    --------
    >>> entry_array(pd.DataFrame({"a": [0, 2]}), "a", np.array([5.0, 3.0]))
    array([0., 2.])
    """
    x = _numeric(
        frame,
        column,
        argument=argument,
        what="entry time",
        func=func,
        fix_missing="Use 0 for customers observed from the start.",
        fix_negative="Entry times are tenure at the start of observation and cannot be negative.",
    )
    after = x > np.asarray(exit, dtype=float)
    if after.any():
        _fail(
            EntryAfterExitError,
            func,
            argument,
            column,
            after,
            [f"{a:g} > exit {b:g}" for a, b in zip(x, np.asarray(exit, dtype=float))],
            "enter after they leave",
            "Entry must be at or before exit (tenure); check which column holds which time.",
            "entry <= exit",
        )
    return x


def weights_array(
    frame: pd.DataFrame, column: str, *, argument: str = "weights_col", func: str | None = None
) -> np.ndarray:
    """Case weights: numeric, complete, finite, >= 0 and not all zero.

    Examples
    --------
    >>> weights_array(pd.DataFrame({"w": [1, 2.5]}), "w")
    array([1. , 2.5])
    """
    w = _numeric(
        frame,
        column,
        argument=argument,
        what="weight",
        func=func,
        fix_missing="Give every customer a weight (1 for an unweighted customer).",
        fix_negative="Weights cannot be negative.",
    )
    if len(w) and not (w > 0).any():
        _fail(
            NegativeValueError,
            func,
            argument,
            column,
            np.ones(len(w), dtype=bool),
            w,
            "have weight 0 (all of them)",
            "At least one customer needs a positive weight.",
            "positive",
        )
    return w


# ------------------------------------------------------------------------------------ resolve
@dataclass
class Resolved:
    """What :func:`resolve` returns: the rows used, the column names and the checked arrays."""

    frame: pd.DataFrame
    spec: Any
    columns: dict[str, str | None]
    duration: np.ndarray | None = None
    event: np.ndarray | None = None
    entry: np.ndarray | None = None
    weights: np.ndarray | None = None
    covariates: list[str] = field(default_factory=list)
    exclusions: list[dict] = field(default_factory=list)
    fingerprint: str = ""
    unit: str = "months"
    messages: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def events(self) -> int | None:
        return None if self.event is None else int(np.sum(self.event))


def resolve(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    entry_col: str | None = None,
    weights_col: str | None = None,
    group_col: str | None = None,
    covariates: Sequence[str] | None = None,
    require: Sequence[str] = ("duration", "event"),
    missing: str = "error",
    tenure_unit: str | None = None,
    func: str | None = None,
) -> Resolved:
    """Resolve and check every column argument of an analysis in one call.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col : str, optional
        Default to the spec's ``tenure`` / ``event`` roles; required when named in ``require``.
    entry_col, weights_col, group_col : str, optional
    covariates : list of str, optional
        Defaults to the spec's ``covariates``; a string is refused.
    require : which of ``"duration"``, ``"event"`` must be present.
    missing : {'error', 'exclude'}
        Missing values in ``group_col`` / ``covariates``: refuse, or exclude those rows (counted,
        recorded in ``exclusions`` and warned with :class:`RowsExcludedWarning`). Tenure, event,
        entry and weights are never excluded silently: missing values there are refused.
    tenure_unit : str, optional
        Defaults to the spec's ``tenure_unit``, else ``"months"``.
    func : str, optional
        The calling function's name, put in front of every message.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [2.0, 5.0, 1.0], "e": [1, 0, 1]})
    >>> r = resolve(df, duration_col="t", event_col="e")
    >>> r.n, r.events
    (3, 2)
    """
    import warnings

    if missing not in ("error", "exclude"):
        raise ParameterError(f"`missing` must be 'error' or 'exclude', got {missing!r}.")
    frame, spec = resolve_frame(data, func=func)
    fingerprint = fingerprint_of(data, frame, list(frame.columns))  # a DataFrame's: on first read
    names = {
        "duration_col": column_name(
            data,
            duration_col,
            argument="duration_col",
            role="tenure",
            required="duration" in require,
            func=func,
        ),
        "event_col": column_name(
            data,
            event_col,
            argument="event_col",
            role="event",
            required="event" in require,
            func=func,
        ),
        "entry_col": column_name(data, entry_col, argument="entry_col", required=False, func=func),
        "weights_col": column_name(
            data, weights_col, argument="weights_col", required=False, func=func
        ),
        "group_col": column_name(data, group_col, argument="group_col", required=False, func=func),
    }
    covs = column_list(data, covariates, argument="covariates", role="covariates", func=func)
    unit = (
        tenure_unit
        or (getattr(spec, "tenure_unit", None) if spec is not None else None)
        or "months"
    )
    months_per_unit(unit, func=func)
    exclusions: list[dict] = list(getattr(data, "exclusions", []) or [])
    messages: list[str] = []
    optional = [c for c in [names["group_col"], *covs] if c is not None]
    if optional:
        miss = frame[optional].isna()
        bad = miss.any(axis=1).to_numpy()
        if bad.any():
            per_col = {c: int(miss[c].sum()) for c in optional if miss[c].any()}
            if missing == "error":
                col = next(iter(per_col))
                _fail(
                    MissingValueError,
                    func,
                    "group_col" if col == names["group_col"] else "covariates",
                    col,
                    miss[col].to_numpy(),
                    frame[col].to_numpy(dtype=object),
                    "have missing values",
                    "Fill them, or pass missing='exclude' (spec: `missing_covariates: exclude`) to "
                    "exclude those rows with a count in the report.",
                    "present",
                )
            msg = (
                f"{_where(func)}{int(bad.sum()):,} of {len(frame):,} rows excluded for missing values "
                f"({', '.join(f'{c}: {k:,}' for c, k in per_col.items())})."
            )
            warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
            messages.append(msg)
            exclusions.append({"rule": "missing", "n_rows": int(bad.sum()), "columns": per_col})
            frame = frame.loc[~bad]
    out = Resolved(
        frame=frame,
        spec=spec,
        columns=names,
        covariates=covs,
        exclusions=exclusions,
        fingerprint=fingerprint,
        unit=unit,
        messages=messages,
    )
    if names["duration_col"] is not None:
        out.duration = tenure_array(frame, names["duration_col"], func=func)
    if names["event_col"] is not None:
        out.event = event_array(frame, names["event_col"], func=func)
    if names["entry_col"] is not None:
        exit_ = out.duration if out.duration is not None else np.full(len(frame), np.inf)
        out.entry = entry_array(frame, names["entry_col"], exit_, func=func)
    if names["weights_col"] is not None:
        out.weights = weights_array(frame, names["weights_col"], func=func)
    return out
