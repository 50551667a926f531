"""Inputs of the Cox-type models (:func:`~workbench.survival.cox.fit_cox`, cause-specific Cox,
Fine-Gray): column resolution, missing-value exclusion, the design matrix with dummy-coded
categoricals, and the removal of constant or collinear terms (named, as R gives them NA).
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import (
    categorical_levels,
    event_array,
    is_categorical,
    tenure_array,
    term_name,
)
from ..exceptions import (
    CollinearityWarning,
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
)
from ._linalg import collinear_columns, one_blas_thread

MIN_EVENTS_PER_PARAMETER = 10


def _single_thread(fn):
    """Run ``fn`` with BLAS limited to one thread: the designs are narrow (n x p with small p), and on
    a shared machine threaded BLAS on such products is 10-100x slower (oversubscription)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return fn(*args, **kwargs)

    return wrapper


# ================================================================================================
# input handling (shared with competing.py)
# ================================================================================================
def _resolve_frame(data: Any) -> tuple[pd.DataFrame, Any]:
    """Return ``(frame, spec or None)`` from a Dataset or a DataFrame."""
    frame = getattr(data, "frame", None)
    if isinstance(frame, pd.DataFrame) and hasattr(data, "spec"):
        return frame, data.spec
    if isinstance(data, pd.DataFrame):
        return data, None
    from ..aggregate.dataset import refuse_rows

    refuse_rows(data)
    raise ParameterError(
        f"`data` must be a workbench Dataset or a pandas DataFrame, got {type(data).__name__}. "
        "Load data with workbench.data.load_dataset(...) or pass a DataFrame."
    )


def _column(
    frame: pd.DataFrame,
    spec: Any,
    value: str | None,
    *,
    argument: str,
    role: str | None,
    required: bool = True,
) -> str | None:
    """Resolve a column argument (defaulting from ``spec.<role>``) and check it exists."""
    if value is None and spec is not None and role is not None:
        value = getattr(spec, role, None)
    if value is None:
        if required:
            raise ParameterError(
                f"`{argument}` is required when `data` is a DataFrame without a role spec; "
                f"pass {argument}='<column name>'."
            )
        return None
    _check_columns(frame, [value], argument=argument)
    return value


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(str(c), [str(x) for x in frame.columns], n=3)
            hints.append(
                f"{c!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "")
            )
        raise ParameterError(
            f"`{argument}`: column(s) {', '.join(hints)} not found in the data. "
            f"Available columns: {', '.join(map(str, list(frame.columns)[:30]))}"
            + (" ..." if len(frame.columns) > 30 else "")
            + "."
        )


def _event_array(frame: pd.DataFrame, event_col: str, func: str = "fit_cox") -> np.ndarray:
    """0/1 churn from the shared resolver (text, missing, 1/2-coded: refused with the column named)."""
    return event_array(frame, event_col, argument="event_col", func=func)


def _duration_array(frame: pd.DataFrame, duration_col: str, func: str = "fit_cox") -> np.ndarray:
    """Tenure from the shared resolver (text, missing, infinite, negative: refused, column named)."""
    return tenure_array(frame, duration_col, argument="duration_col", func=func)


def _warn(messages: list[str], message: str, category: type[Warning]) -> None:
    warnings.warn(message, category, stacklevel=3)
    messages.append(message)


def _has_missing(s: pd.Series) -> bool:
    if s.dtype.kind == "f":  # plain float column: numpy's NaN test, no pandas objects
        return bool(np.isnan(s.to_numpy()).any())
    return bool(s.hasnans)


def _drop_missing(
    frame: pd.DataFrame, columns: Sequence[str], messages: list[str], exclusions: list[dict]
) -> pd.DataFrame:
    """Drop rows with a missing value in ``columns``; count, warn and record the exclusion."""
    cols = list(dict.fromkeys(c for c in columns if c is not None))
    if not any(_has_missing(frame[c]) for c in cols):  # column by column: no copy of the frame
        return frame
    miss = frame[cols].isna()
    bad = miss.any(axis=1)
    if bad.any():
        per_col = {c: int(miss[c].sum()) for c in cols if miss[c].any()}
        n_bad = int(bad.sum())
        _warn(
            messages,
            f"{n_bad:,} of {len(frame):,} rows excluded for missing values "
            f"({', '.join(f'{c}: {k:,}' for c, k in per_col.items())}).",
            RowsExcludedWarning,
        )
        exclusions.append({"rule": "missing", "n_rows": n_bad, "columns": per_col})
        frame = frame.loc[~bad]
    return frame


# ================================================================================================
# design matrix
# ================================================================================================
@dataclass
class _Design:
    X: np.ndarray
    terms: list[str]
    term_covariate: list[str]
    levels: dict[str, dict]  # covariate -> {"reference": level, "levels": [...]} for categoricals
    term_level: list = field(default_factory=list)  # the level a dummy term codes (None: numeric)
    dropped: list[dict] = field(default_factory=list)


_is_categorical = is_categorical  # the shared rule: Categorical, bool, text or object


def _build_design(
    frame: pd.DataFrame, covariates: Sequence[str], reference: dict | None
) -> _Design:
    reference = dict(reference or {})
    unknown = [c for c in reference if c not in covariates]
    if unknown:
        raise ParameterError(
            f"`reference` names column(s) {unknown} that are not in `covariates` {list(covariates)}; "
            "give reference levels only for categorical covariates you model."
        )
    cols, terms, owner, levels, term_level = [], [], [], {}, []
    for cov in covariates:
        s = frame[cov]
        if _is_categorical(s):
            # R's rule (workbench.columns): first level of a Categorical, else first sorted
            lv = categorical_levels(s, reference=reference.get(cov), argument="reference")
            ref = lv[0]
            levels[cov] = {"reference": ref, "levels": lv}
            codes, uniq = pd.factorize(s)  # one hash pass; each dummy is then a code comparison
            code_of = {u: k for k, u in enumerate(uniq)}
            for v in lv[1:]:
                cols.append(codes == code_of.get(v, -2))
                terms.append(term_name(cov, v))
                owner.append(cov)
                term_level.append(v)
            if len(lv) == 1:
                cols.append(np.zeros(len(s)))
                terms.append(term_name(cov, lv[0]))
                owner.append(cov)
                term_level.append(lv[0])
        else:
            if cov in reference:
                raise ParameterError(
                    f"`reference` given for {cov!r}, but it is numeric ({s.dtype}); reference levels apply "
                    f"to categorical columns. Convert it with df[{cov!r}].astype('category') to dummy-code it."
                )
            if not pd.api.types.is_numeric_dtype(s):
                raise DataValidationError(
                    f"covariate {cov!r} has type {s.dtype}, neither numeric nor categorical; "
                    "convert it to numbers or to a category.",
                    column=cov,
                    rule="type",
                )
            cols.append(s)
            terms.append(cov)
            owner.append(cov)
            term_level.append(None)
    # column-major, filled column by column: no intermediate copies, and the per-column
    # reductions that follow (range, mean, collinearity screen) read contiguous memory
    X = np.empty((len(frame), len(cols)), order="F")
    for j, c in enumerate(cols):
        X[:, j] = c if isinstance(c, np.ndarray) else c.to_numpy(dtype=float)
    return _Design(X=X, terms=terms, term_covariate=owner, levels=levels, term_level=term_level)


def _drop_degenerate(
    design: _Design, strata_codes: np.ndarray | None, messages: list[str], model: str = "Cox model"
) -> _Design:
    """Drop constant and collinear design columns, naming them (R gives such terms NA)."""
    X = design.X
    keep = np.ones(X.shape[1], dtype=bool)
    dropped = []
    ptp = np.ptp(X, axis=0) if len(X) else np.zeros(X.shape[1])
    flat_within = None  # columns constant within every stratum: one grouped min / max of all
    if strata_codes is not None and len(X):
        grouped = pd.DataFrame(X).groupby(strata_codes, sort=False)
        flat_within = (grouped.max().to_numpy() == grouped.min().to_numpy()).all(axis=0)
    for j in range(X.shape[1]):
        col = X[:, j]
        if ptp[j] == 0:
            keep[j] = False
            dropped.append(
                {
                    "term": design.terms[j],
                    "reason": f"constant (every row is {col[0]:g})" if col.size else "no rows",
                }
            )
        elif flat_within is not None and flat_within[j]:
            keep[j] = False
            dropped.append({"term": design.terms[j], "reason": "constant within every stratum"})
    idx = np.flatnonzero(keep)
    if idx.size > 1:
        pos = {t: j for j, t in zip(idx, (design.terms[i] for i in idx))}
        Xi = X if idx.size == X.shape[1] else X[:, idx]
        for term, partners in collinear_columns(Xi, [design.terms[i] for i in idx]):
            keep[pos[term]] = False
            dropped.append(
                {
                    "term": term,
                    "reason": "collinear with " + (", ".join(partners) or "the other terms"),
                }
            )
    for d in dropped:
        _warn(
            messages,
            f"Term {d['term']!r} dropped from the {model}: {d['reason']}. Its hazard ratio cannot "
            "be estimated from these data; remove the covariate or merge its levels.",
            CollinearityWarning,
        )
    if not dropped:
        return design
    k = np.flatnonzero(keep)
    return _Design(
        X=X[:, k],
        terms=[design.terms[i] for i in k],
        term_covariate=[design.term_covariate[i] for i in k],
        levels=design.levels,
        term_level=[design.term_level[i] for i in k],
        dropped=dropped,
    )


def _new_design(frame: pd.DataFrame, s: dict) -> np.ndarray:
    _check_columns(frame, s["covariates"], argument="data")
    cols = []
    for cov, level in zip(s["term_covariate"], s["term_level"]):
        if level is not None:
            cols.append((frame[cov] == level).to_numpy(dtype=float))
        else:
            cols.append(pd.to_numeric(frame[cov], errors="coerce").to_numpy(dtype=float))
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


def _strata_codes(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray | None, list]:
    """Integer codes of the combinations of ``columns`` and one label per code (``"a|b"``).

    Factorised per column and combined arithmetically: labels are built once per combination, not
    per row (a row-wise string join costs seconds at a million rows). ``(None, [])`` without columns.
    """
    if not columns:
        return None, []
    key = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        k, uniq = pd.factorize(frame[c], sort=True)
        key = key * max(len(uniq), 1) + k
    codes, combos = pd.factorize(key, sort=True)
    first = np.zeros(len(combos), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # first row of each combination
    labels = frame[list(columns)].iloc[first].astype(str).agg("|".join, axis=1).tolist()
    return codes.astype(np.int64), labels


def hazard_ratio_table(terms, covariates, beta, se, alpha: float) -> pd.DataFrame:
    """One row per term: the log hazard ratio with its interval on the same (log) scale, and the
    hazard ratio with its interval beside it."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lo, hi = beta - z * se, beta + z * se
        stat = beta / se
        return pd.DataFrame(
            {
                "term": terms,
                "covariate": covariates,
                "estimate": beta,
                "se": se,
                "ci_lower": lo,
                "ci_upper": hi,
                "hazard_ratio": np.exp(beta),
                "hr_ci_lower": np.exp(lo),
                "hr_ci_upper": np.exp(hi),
                "statistic": stat,
                "p_value": 2 * stats.norm.sf(np.abs(stat)),
            }
        )
