"""Input checks of the Cox engine's array interface (:func:`workbench.survival.engine.cox_fit`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ParameterError


# ------------------------------------------------------------------------------------ checks
def _as_1d(name: str, value, n: int | None) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ParameterError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
    if n is not None and len(arr) != n:
        raise ParameterError(
            f"`{name}` has {len(arr):,} values but `X` has {n:,} rows; pass one value per row."
        )
    return arr


def _check_inputs(X, time, event, weights, strata, cluster):
    if isinstance(X, pd.DataFrame):
        terms = [str(c) for c in X.columns]
        nonnum = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if nonnum:
            raise ParameterError(
                f"`X` has non-numeric column(s) {nonnum}; encode them first "
                "(e.g. pandas.get_dummies(..., drop_first=True))."
            )
        Xa = X.to_numpy(dtype=float)
    else:
        Xa = np.asarray(X, dtype=float)
        if Xa.ndim == 1:
            Xa = Xa[:, None]
        if Xa.ndim != 2:
            raise ParameterError(
                f"`X` must be a 2-d array (rows x covariates), got shape {Xa.shape}."
            )
        terms = [f"x{j}" for j in range(Xa.shape[1])]
    n = Xa.shape[0]
    if n == 0:
        raise ParameterError("`X` has no rows; a Cox model needs data.")
    if not np.isfinite(Xa).all():  # whole-array check first (fast in either memory order)
        bad = ~np.isfinite(Xa).all(axis=1)
        raise ParameterError(
            f"`X` has {int(bad.sum()):,} row(s) with missing or infinite values (first row "
            f"positions: {np.flatnonzero(bad)[:5].tolist()}); drop or impute them before fitting."
        )
    t = _as_1d("time", time, n).astype(float)
    if not np.isfinite(t).all() or (t < 0).any():
        nbad = int((~np.isfinite(t) | (t < 0)).sum())
        raise ParameterError(
            f"`time` must be finite and non-negative; {nbad:,} value(s) are not. Check the tenure column."
        )
    e = _as_1d("event", event, n)
    e_num = pd.to_numeric(pd.Series(e), errors="coerce").to_numpy(dtype=float)
    if not np.isin(e_num, (0.0, 1.0)).all():
        raise ParameterError(
            f"`event` must be 0/1 (1 = churned); received values {np.unique(e)[:6].tolist()}."
        )
    e = e_num.astype(bool)
    w = None
    if weights is not None:
        w = _as_1d("weights", weights, n).astype(float)
        if not np.isfinite(w).all() or (w <= 0).any():
            raise ParameterError(
                f"`weights` must be finite and > 0 (as in R's coxph); {int((~(w > 0)).sum()):,} are "
                "not. Drop rows with zero weight before fitting."
            )
    codes, levels = None, [None]
    if strata is not None:
        s = _as_1d("strata", strata, n)
        codes_, uniq = pd.factorize(pd.Series(s), sort=True)
        if (codes_ < 0).any():
            raise ParameterError("`strata` has missing values; give every row a stratum.")
        codes, levels = codes_.astype(np.int64), list(uniq)
    cl = None
    if cluster is not None:
        c = _as_1d("cluster", cluster, n)
        cl_codes, _ = pd.factorize(pd.Series(c))
        if (cl_codes < 0).any():
            raise ParameterError("`cluster` has missing values; give every row a cluster id.")
        cl = cl_codes
    return Xa, terms, t, e, w, codes, levels, cl


def _test(stat: float, df: int) -> dict:
    return {
        "statistic": float(stat),
        "df": int(df),
        "p_value": float(stats.chi2.sf(stat, df)) if df > 0 else float("nan"),
    }


def _check_entry(entry, t: np.ndarray) -> np.ndarray | None:
    if entry is None:
        return None
    ent = _as_1d("entry", entry, len(t)).astype(float)
    bad = ~np.isfinite(ent) | ~(ent < t)
    if bad.any():
        raise ParameterError(
            "`entry` must be finite and before `time` (rows at risk on (entry, time]); "
            f"{int(bad.sum()):,} row(s) are not (first row positions: "
            f"{np.flatnonzero(bad)[:5].tolist()}). Drop zero-length intervals and check that "
            "entry and exit are not swapped."
        )
    return ent
