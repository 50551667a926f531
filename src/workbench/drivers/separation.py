"""Detect separation (logistic) and monotone likelihood (Cox) BEFORE trusting a fit.

Logistic models
    The maximum-likelihood estimate is infinite when a linear combination of the covariates separates
    the outcomes: complete separation when ``s_i x_i'b > 0`` for every row (``s_i = 2 y_i - 1``),
    quasi-complete when ``s_i x_i'b >= 0`` with equality for some. :func:`detect_separation` solves the
    linear programmes of Konis (2007): maximise ``sum s_i x_i'b`` subject to ``s_i x_i'b >= 0`` and
    ``-1 <= b <= 1`` (a positive optimum means separation; the non-zero entries of ``b`` are the
    directions that diverge) and maximise ``t`` subject to ``s_i x_i'b >= t`` (``t > 0``: complete).
    It also checks each indicator term on its own (a level whose customers all have the same
    outcome), which names the variable and levels in the report.
Cox models
    The partial likelihood is monotone (the estimate runs to infinity) when at every event time the
    failing customer has the largest (or smallest) value of a covariate combination in the risk
    set. :func:`detect_monotone_likelihood` checks every column: e.g. a level with no events at all.

References
----------
Albert, A. and Anderson, J. A. (1984). On the existence of maximum likelihood estimates in logistic
regression models. *Biometrika* 71, 1-10.
Konis, K. (2007). *Linear programming algorithms for detecting separated data in binary logistic
regression models*. DPhil thesis, University of Oxford.
Heinze, G. and Schemper, M. (2001). A solution to the problem of monotone likelihood in Cox
regression. *Biometrics* 57, 114-119.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from ..results import Result

SEPARATION_COLUMNS = ("model", "variable", "levels", "kind", "terms", "direction", "action")


EXTREME_KIND = "extreme values all one outcome"


class SeparationResult(Result):
    """Which variables and levels separate the outcome, of what kind, and what was done about it.

    ``summary`` has one row per variable (columns ``model``, ``variable``, ``levels``, ``kind``,
    ``terms``, ``direction``, ``action``); it is empty when no separation was found.
    """

    title = "Separation and monotone likelihood"
    key = "variable"

    @property
    def found(self) -> bool:
        return len(self.summary) > 0

    @property
    def infinite(self) -> bool:
        """Separation / monotone likelihood / divergence: a maximum-likelihood estimate is infinite
        (rows other than the extreme-value notes of :func:`detect_extreme_values`)."""
        return bool(len(self.summary)) and bool((self.summary["kind"] != EXTREME_KIND).any())


def _group_rows(
    term_hits: dict, term_info: dict, kind_by_term: dict, model: str, action: str
) -> list[dict]:
    by_var: dict = {}
    for term, direction in term_hits.items():
        var, level = term_info.get(term, (term, None))
        row = by_var.setdefault(
            var,
            {
                "model": model,
                "variable": var,
                "levels": [],
                "kind": kind_by_term[term],
                "terms": [],
                "direction": [],
                "action": action,
            },
        )
        if level is not None:
            row["levels"].append(str(level))
        row["terms"].append(term)
        row["direction"].append(direction)
        if kind_by_term[term] == "complete":
            row["kind"] = "complete"
    out = []
    for row in by_var.values():
        row["levels"] = ", ".join(row["levels"])
        row["terms"] = ", ".join(row["terms"])
        row["direction"] = ", ".join(sorted(set(row["direction"])))
        out.append(row)
    return out


def _lp_separation(X: np.ndarray, s: np.ndarray):
    """Konis' LPs; returns (separated, complete, direction b)."""
    A = -(X * s[:, None])  # -s x'b <= 0
    k = X.shape[1]
    res = optimize.linprog(
        c=-(X * s[:, None]).sum(axis=0),
        A_ub=A,
        b_ub=np.zeros(len(s)),
        bounds=[(-1, 1)] * k,
        method="highs",
    )
    if res.status != 0:
        return False, False, np.zeros(k)
    separated = -res.fun > 1e-7
    if not separated:
        return False, False, np.zeros(k)
    # complete: maximise t subject to s x'b >= t, t <= 1
    A2 = np.hstack([A, np.ones((len(s), 1))])
    res2 = optimize.linprog(
        c=np.r_[np.zeros(k), -1.0],
        A_ub=A2,
        b_ub=np.zeros(len(s)),
        bounds=[(-1, 1)] * k + [(None, 1)],
        method="highs",
    )
    complete = res2.status == 0 and -res2.fun > 1e-7
    return True, complete, res.x


def detect_separation(
    X: pd.DataFrame,
    y,
    *,
    weights=None,
    term_info: dict | None = None,
    model: str = "logistic",
    action: str = "",
    lp_max_cells: int = 3_000_000,
) -> SeparationResult:
    """Detect complete / quasi-complete separation in a logistic design (see module docstring).

    Parameters
    ----------
    X : DataFrame
        Design without the intercept (the intercept is added).
    y : array of 0/1
    weights : array, optional
        Rows with weight 0 are ignored (e.g. unknown status at the horizon).
    term_info : dict
        Column -> (variable, level) used to name the source.
    lp_max_cells : int
        The linear programme runs when ``rows x columns`` is at most this; larger designs (e.g.
        person-period data) get the per-term checks only.
    """
    term_info = term_info or {}
    y = np.asarray(y, float)
    keep = np.ones(len(y), bool) if weights is None else np.asarray(weights) > 0
    Xv = X.to_numpy(dtype=float)[keep]
    yv = y[keep]
    hits, kinds = {}, {}
    for j, name in enumerate(X.columns):
        col = Xv[:, j]
        vals = np.unique(col)
        if len(vals) == 2 and set(vals) <= {0.0, 1.0}:
            on = col == 1
            ys = yv[on]
            if len(ys) and (ys.min() == ys.max()):
                hits[name] = "+inf" if ys[0] == 1 else "-inf"
                kinds[name] = (
                    "complete"
                    if (yv[~on].min() == yv[~on].max() and yv[~on][0] != ys[0])
                    else "quasi-complete"
                )
        else:
            y1, y0 = col[yv == 1], col[yv == 0]
            if len(y1) and len(y0):
                if y1.min() >= y0.max() or y1.max() <= y0.min():
                    hits[name] = "+inf" if y1.min() >= y0.max() else "-inf"
                    strict = y1.min() > y0.max() or y1.max() < y0.min()
                    kinds[name] = "complete" if strict else "quasi-complete"
    meta = {"model": model, "n": int(keep.sum()), "lp": False}
    if Xv.shape[0] * (Xv.shape[1] + 1) <= lp_max_cells and len(np.unique(yv)) == 2:
        Z = np.column_stack([np.ones(len(yv)), Xv])
        sep, complete, b = _lp_separation(Z, 2 * yv - 1)
        meta["lp"] = True
        meta["lp_separated"] = bool(sep)
        meta["lp_complete"] = bool(complete)
        if sep:
            for j, name in enumerate(X.columns):
                if abs(b[j + 1]) > 1e-6 and name not in hits:
                    hits[name] = "+inf" if b[j + 1] > 0 else "-inf"
                    kinds[name] = "complete" if complete else "quasi-complete"
            if complete:
                kinds = {k: "complete" for k in kinds}
    rows = _group_rows(hits, term_info, kinds, model, action)
    return SeparationResult(pd.DataFrame(rows, columns=list(SEPARATION_COLUMNS)), meta)


def detect_monotone_likelihood(
    X: pd.DataFrame,
    time,
    event,
    *,
    term_info: dict | None = None,
    model: str = "Cox",
    action: str = "",
) -> SeparationResult:
    """Monotone partial likelihood, column by column (see module docstring)."""
    term_info = term_info or {}
    t = np.asarray(time, float)
    e = np.asarray(event, int)
    order = np.argsort(t, kind="mergesort")
    ts, es = t[order], e[order]
    ev_idx = np.flatnonzero(es == 1)
    start = np.searchsorted(ts, ts[ev_idx], side="left")
    hits, kinds = {}, {}
    for name in X.columns:
        x = X[name].to_numpy(dtype=float)[order]
        rmax = np.maximum.accumulate(x[::-1])[::-1][start]
        rmin = np.minimum.accumulate(x[::-1])[::-1][start]
        xe = x[ev_idx]
        informative = rmax > rmin  # risk sets in which x varies
        if not informative.any():
            continue
        if np.all(xe[informative] >= rmax[informative]):
            hits[name], kinds[name] = "+inf", "monotone likelihood"
        elif np.all(xe[informative] <= rmin[informative]):
            hits[name], kinds[name] = "-inf", "monotone likelihood"
    rows = _group_rows(hits, term_info, kinds, model, action)
    return SeparationResult(pd.DataFrame(rows, columns=list(SEPARATION_COLUMNS)), {"model": model})


def detect_extreme_values(
    frame: pd.DataFrame,
    columns,
    y,
    *,
    model: str = "",
    action: str = "",
    min_customers: int = 5,
    max_levels: int = 20,
) -> SeparationResult:
    """Numeric variables whose top (or bottom) value is held only by churners (or only by stayers).

    A count such as "number of products" whose top level every customer churned from is a
    separation of that level even when the variable enters the model as a number (or through an
    index), where the estimate stays finite: the level carries no information about staying. Each such
    variable is named with the value, the number of customers and the outcome they all share.
    ``y`` is the view's 0/1 outcome aligned with ``frame`` (NaN rows are ignored). Checked for
    count-like variables (whole numbers with 3 to ``max_levels`` distinct values) at values held by at
    least ``min_customers`` customers; the extremes of a continuous variable are single customers.
    """
    y = np.asarray(y, float)
    ok = np.isfinite(y)
    rows = []
    for col in columns:
        s = frame[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        x = s.to_numpy(float)[ok]
        yy = y[ok]
        n_lev = len(np.unique(x))
        if n_lev < 3 or n_lev > max_levels or not np.all(x == np.round(x)):
            continue  # indicators are checked as terms; continuous extremes are single customers
        for side, v in (("top", x.max()), ("bottom", x.min())):
            at = x == v
            if at.sum() < min_customers:
                continue
            vals = np.unique(yy[at])
            if len(vals) == 1:
                what = "churned" if vals[0] == 1 else "stayed"
                rows.append(
                    {
                        "model": model,
                        "variable": col,
                        "levels": f"{side} value {v:g} ({int(at.sum()):,} customers, all {what})",
                        "kind": EXTREME_KIND,
                        "terms": col,
                        "direction": ("+inf" if (vals[0] == 1) == (side == "top") else "-inf"),
                        "action": action,
                    }
                )
    return SeparationResult(pd.DataFrame(rows, columns=list(SEPARATION_COLUMNS)), {"model": model})


def combine(results: list[SeparationResult]) -> SeparationResult:
    """One table from several models' separation checks."""
    frames = [r.summary for r in results if len(r.summary)]
    df = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(SEPARATION_COLUMNS))
    )
    return SeparationResult(df, {"models": [r.meta.get("model") for r in results]})
