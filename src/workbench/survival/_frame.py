"""Input handling shared by the nonparametric survival functions (Kaplan-Meier, RMST, log-rank,
hazards, parametric fits): resolve the columns of a Dataset or DataFrame, check them and return a
tidy frame ``duration, event, group, weight``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..columns import event_array, fingerprint_of, tenure_array
from ..exceptions import (
    DataQualityWarning,
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
    SmallSampleWarning,
)
from ..privacy import check_not_personal
from .kernels import distinct_sorted

ALL_GROUP = "all"


def _column_arg(data: Any, value: str | None, arg: str, role: str | None) -> str | None:
    if value is not None:
        return value
    spec = getattr(data, "spec", None)
    if spec is not None and role is not None:
        return getattr(spec, role)
    return None


def prepare_survival_frame(
    data: Any,
    *,
    duration_col: str | None,
    event_col: str | None,
    group_col: str | None = None,
    weights_col: str | None = None,
    extra_cols: Sequence[str] = (),
    func: str = "kaplan_meier",
    warn_zero_tenure: bool = True,
) -> tuple[pd.DataFrame, dict, list[str]]:
    """Resolve the columns, check them and return ``(frame, info, messages)``.

    The returned frame has columns ``duration`` (float), ``event`` (0/1 int), ``group`` (str, "all"
    without ``group_col``, ordered as the data's categories or sorted), ``weight`` (float, 1 without
    ``weights_col``) and the ``extra_cols`` as they are. Rows with a missing value in any used column
    are excluded with a :class:`RowsExcludedWarning`; ``messages`` holds the warnings' texts.
    The columns may share memory with the caller's data (no copy of a million rows): read them,
    add columns, never write into them.
    """
    if hasattr(data, "frame") and hasattr(data, "spec"):
        frame = data.frame
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        from ..aggregate.dataset import refuse_rows

        refuse_rows(data, func)
        raise ParameterError(
            f"{func}(data, ...): `data` must be a workbench Dataset or a pandas DataFrame, got "
            f"{type(data).__name__}. Load data with workbench.data.load_dataset(...)."
        )
    duration_col = _column_arg(data, duration_col, "duration_col", "tenure")
    event_col = _column_arg(data, event_col, "event_col", "event")
    for arg, col in (("duration_col", duration_col), ("event_col", event_col)):
        if col is None:
            raise ParameterError(
                f"{func}: `{arg}` is required when `data` is a DataFrame (no role spec to take it from). "
                f"Pass e.g. {arg}='tenure'."
            )
    used = {"duration_col": duration_col, "event_col": event_col}
    if group_col is not None:
        used["group_col"] = group_col
    if weights_col is not None:
        used["weights_col"] = weights_col
    for i, c in enumerate(extra_cols):
        used[f"column {i}"] = c
    for arg, col in used.items():
        if not isinstance(col, str) or col not in frame.columns:
            import difflib

            close = difflib.get_close_matches(str(col), [str(x) for x in frame.columns], n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise DataValidationError(
                f"{func}: `{arg}`={col!r} is not a column of the data.{hint} Columns available: "
                f"{list(map(str, frame.columns))[:30]}.",
                column=str(col),
                rule="column present",
            )
    if len(frame) == 0:
        raise DataValidationError(
            f"{func}: the data have no rows; pass a frame with customers in it."
        )
    if group_col is not None:
        # a group per id or per surname would print personal values in every table and figure
        check_not_personal(data, group_col, argument="group_col")
    messages: list[str] = []

    # tenure and churn through the shared resolver: text, missing, infinite, negative tenure and
    # 1/2-coded churn are refused with the column named (never dropped); the arrays come back
    # checked, so nothing below re-checks them
    dur = tenure_array(frame, duration_col, argument="duration_col", func=func)
    ev = event_array(frame, event_col, argument="event_col", func=func)
    optional: list[tuple[str, pd.Series]] = []  # the other columns: missing values exclude rows
    if group_col is not None:
        optional.append(("group", frame[group_col]))
    if weights_col is not None:
        w = frame[weights_col]
        if not pd.api.types.is_numeric_dtype(w):
            raise DataValidationError(
                f"{func}: weights column '{weights_col}' must be numeric, got dtype {w.dtype}.",
                column=weights_col,
                rule="numeric",
            )
        optional.append(("weight", w.astype(float)))
    for c in extra_cols:
        optional.append((c, frame[c]))
    user_names = [*used.values()][2:]  # the user's names of the optional columns, in order
    na = [s.isna().to_numpy() for _, s in optional]
    missing = np.logical_or.reduce(na) if na else np.zeros(len(frame), dtype=bool)
    n_missing = int(missing.sum())
    if n_missing == len(frame):
        raise DataValidationError(
            f"{func}: every row has a missing value in {list(used.values())}; nothing to analyse.",
            rule="missing values",
            n_rows=n_missing,
        )
    keep = ~missing if n_missing else slice(None)
    if n_missing:
        per = {c: int(m.sum()) for c, m in zip(user_names, na, strict=True)}
        msg = (
            f"{func}: {n_missing:,} of {len(frame):,} rows excluded because of missing values "
            f"(per column: { {k: v for k, v in per.items() if v} })."
        )
        warnings.warn(msg, RowsExcludedWarning, stacklevel=3)
        messages.append(msg)
    d = dur[keep]
    # the columns are gathered first and the frame built once from them (no copies): inserting
    # them one by one makes pandas consolidate the float columns, a copy of every row
    cols: dict[str, Any] = {"duration": d, "event": ev[keep].astype(int)}
    for k, s in optional:
        cols[k] = (s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array)[keep]
    if weights_col is not None:
        w = cols["weight"]
        if (~np.isfinite(w)).any() or (w < 0).any():
            raise DataValidationError(
                f"{func}: weights column '{weights_col}' must be finite and >= 0, got "
                f"{int(((~np.isfinite(w)) | (w < 0)).sum()):,} bad value(s) (min {np.nanmin(w):g}).",
                column=weights_col,
                rule="non-negative weights",
            )
        if w.sum() <= 0:
            raise DataValidationError(
                f"{func}: weights column '{weights_col}' sums to zero.", column=weights_col
            )
    else:
        cols["weight"] = np.ones(len(d))
    n_zero = int((d == 0).sum())
    if n_zero and warn_zero_tenure:
        msg = (
            f"{func}: {n_zero:,} customer(s) have tenure 0 in '{duration_col}'; they are at risk at time 0 "
            "and their churn counts at time 0 (as in R survfit)."
        )
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
        messages.append(msg)
    if group_col is not None:
        cols["group"] = _group_categorical(pd.Series(cols["group"]), frame[group_col].dtype)
    else:
        cols["group"] = pd.Categorical.from_codes(
            np.zeros(len(d), dtype=np.int8), categories=[ALL_GROUP]
        )
    out = pd.DataFrame(cols, index=frame.index[keep], copy=False)
    info = {
        "duration_col": duration_col,
        "event_col": event_col,
        "group_col": group_col,
        "weights_col": weights_col,
        "n_received": len(frame),
        "n_excluded": n_missing,
        "exclusions": (
            [{"rule": "missing", "n_rows": n_missing, "columns": list(used.values())}]
            if n_missing
            else []
        ),
        "reference_levels": {},  # no regression terms; groups are compared as they are
        "fingerprint": fingerprint_of(data, frame, used.values()),
        # the spec's unit (axes and sentences say "months", "years"); frames: the package's months
        "tenure_unit": getattr(getattr(data, "spec", None), "tenure_unit", None) or "months",
    }
    return out, info, messages


def _group_categorical(g: pd.Series, dtype) -> pd.Categorical:
    """Group labels as strings, in the data's category order (else sorted values, numbers numerically).

    Hash-based (``pd.factorize``), or counted for whole numbers (group codes stored as numbers, via
    :func:`~workbench.survival.kernels.distinct_sorted`): no per-row string conversion, so a
    million rows stay fast.
    """
    if (
        isinstance(dtype, np.dtype)
        and dtype.kind in "iuf"
        and isinstance(g.dtype, np.dtype)
        and g.dtype.kind in "iuf"
    ):
        uniques, codes = distinct_sorted(g.to_numpy())
        return pd.Categorical.from_codes(codes, categories=[str(u) for u in uniques])
    codes, uniques = pd.factorize(g, sort=False)
    uniques = list(uniques)
    if isinstance(dtype, pd.CategoricalDtype):
        pos = {c: i for i, c in enumerate(dtype.categories)}
        order = sorted(range(len(uniques)), key=lambda i: pos[uniques[i]])
    else:
        try:
            order = sorted(range(len(uniques)), key=lambda i: uniques[i])
        except TypeError:
            order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
    labels = [str(uniques[i]) for i in order]
    if len(set(labels)) < len(labels):  # e.g. 1 and "1": merge by their text
        return pd.Categorical(g.astype(str), categories=list(dict.fromkeys(labels)))
    remap = np.empty(len(uniques), dtype=np.int64)
    remap[order] = np.arange(len(uniques))
    return pd.Categorical.from_codes(remap[codes], categories=labels)


def _check_times(times) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(times, dtype=object))
    try:
        vals = arr.astype(float)
    except (TypeError, ValueError):
        raise ParameterError(f"`times` must be numbers (tenure), got {list(arr)[:5]!r}.") from None
    if vals.size == 0 or not np.isfinite(vals).all() or (vals < 0).any():
        raise ParameterError(f"`times` must be finite numbers >= 0, got {list(arr)[:5]!r}.")
    return vals


def group_rows(prep: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """``(group label, row positions)`` for each group with rows, in the categories' order.

    The same groups as ``prep.groupby("group", observed=True, sort=True)``, from the integer codes
    (one stable radix sort of small integers) instead of copying every column per group.
    """
    cat = prep["group"].array
    codes = np.asarray(cat.codes)
    counts = np.bincount(codes, minlength=len(cat.categories))
    order = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(counts)]
    return [
        (cat.categories[i], order[bounds[i] : bounds[i + 1]])
        for i in range(len(counts))
        if counts[i]
    ]


def _group_warnings(prep: pd.DataFrame, func: str) -> list[str]:
    msgs = []
    cat = prep["group"].array
    codes = np.asarray(cat.codes)
    k = len(cat.categories)
    # customers, not rows: with whole-number (frequency) weights a row stands for `weight` customers
    w = prep["weight"].to_numpy(dtype=float) if "weight" in prep else None
    if w is not None and bool(np.all(w == 1.0)):
        w = None  # unweighted (prepare_survival_frame's weight 1): plain counts
    whole = w is not None and bool(np.all(w == np.round(w)))
    rows = np.bincount(codes, minlength=k)
    sizes = np.bincount(codes, weights=w, minlength=k) if whole else rows
    ev = prep["event"].to_numpy()
    events = np.bincount(codes, weights=ev if w is None else ev * w, minlength=k)
    for g, n, ev, n_rows in zip(cat.categories, sizes, events, rows, strict=True):
        if n_rows == 0:
            continue
        n = int(round(n))
        label = "the data" if g == ALL_GROUP else f"group '{g}'"
        if n == 1:
            msg = f"{func}: {label} has a single customer; its estimates are not informative."
        elif ev == 0:
            msg = f"{func}: {label} has no churn events ({n:,} customers, all censored); survival stays at 1."
        else:
            continue
        warnings.warn(msg, SmallSampleWarning, stacklevel=3)
        msgs.append(msg)
    return msgs
