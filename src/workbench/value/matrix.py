"""Customer value matrix (current value x growth potential) and the concentration of value.

Current value is the present value of a customer's future margin if her behaviour stays as it is;
growth potential the extra present value if a retention strategy moves her (here: lowers her
hazard by a hazard ratio, estimated from an intervention or stated as an assumption; see
:func:`workbench.value.predict_clv`). Customers are split at a cut on each axis (default the median)
into four types:

* I   low current value, low growth potential (least attractive; possibly loss-making)
* II  low current value, high growth potential (develop)
* III high current value, low growth potential (maintain)
* IV  high current value, high growth potential (the most valuable; retain first)

References
----------
Verhoef, P. C. & Donkers, B. (2001). Predicting customer potential value: an application in the
insurance industry. *Decision Support Systems*, 32(2), 189-199.
Lorenz, M. O. (1905). Methods of measuring the concentration of wealth. *Publications of the American
Statistical Association*, 9(70), 209-219.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import check_alpha, data_fingerprint, resolve_frame
from ..exceptions import (
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
    UnavailableWarning,
    WorkbenchWarning,
)
from ..results import Result, standard_meta

TYPES = {
    "I": "low current, low potential",
    "II": "low current, high potential",
    "III": "high current, low potential",
    "IV": "high current, high potential",
}


class ValueMatrixResult(Result):
    """``summary``: type, label, customers, customer_share, current_value, growth_potential,
    value_share, potential_share; ``tables['points']``: the two values per customer (no ids)."""

    title = "Customer value matrix"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_value_matrix

        return plot_value_matrix(self, ax=ax, **kwargs)


class LorenzResult(Result):
    """Concentration of value: ``summary`` (top shares, Gini); ``tables['curve']`` the Lorenz curve."""

    title = "Concentration of customer value"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_lorenz

        return plot_lorenz(self, ax=ax, **kwargs)


def _meta_from(data, frame, *, n, method, **extra) -> dict:
    """Contract meta of a result computed from customer values: fingerprint and exclusions of the
    value result (or of the table), no intervals (``alpha`` None)."""
    src = data.meta if isinstance(data, Result) else {}
    return standard_meta(
        alpha=None,
        method=method,
        n=n,
        events=None,
        fingerprint=src.get("fingerprint") or data_fingerprint(frame),
        exclusions=src.get("exclusions"),
        reference_levels=src.get("reference_levels"),
        **extra,
    )


def _passthrough(result_cls, values: Result, method: str, key: str):
    """An unavailable result carried over from unavailable customer values (same reason)."""
    import warnings

    reason = values.meta.get("reason") or "customer values are unavailable."
    warnings.warn(reason, UnavailableWarning, stacklevel=3)
    meta = {
        **_meta_from(values, pd.DataFrame(), n=0, method=method),
        "available": False,
        "reason": reason,
    }
    return result_cls(pd.DataFrame(), meta, warnings=[reason], key=key)


def _values(data, col):
    frame = data.tables["customers"] if isinstance(data, Result) else data
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"pass a DataFrame or a CustomerValueResult, got {type(data).__name__}."
        )
    if col not in frame.columns:
        raise ParameterError(
            f"column '{col}' is not in the values table (columns: {list(frame.columns)}). "
            "For growth potential call predict_clv(..., effect_hr=...)."
        )
    return frame


def value_matrix(
    data,
    *,
    current_col: str = "current_value",
    potential_col: str = "growth_potential",
    current_cut: float | None = None,
    potential_cut: float | None = None,
) -> ValueMatrixResult:
    """Split customers into the four value types by current value and growth potential.

    Parameters
    ----------
    data : CustomerValueResult or DataFrame
        Per-customer values (from :func:`workbench.value.predict_clv` with ``effect_hr``).
    current_col, potential_col : str
    current_cut, potential_cut : float, optional
        "High" means at or above the cut; default the median among the customers valued.

    Returns
    -------
    ValueMatrixResult

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"current_value": [1, 2, 10, 20], "growth_potential": [5, 0, 0, 5]})
    >>> value_matrix(df).summary[["type", "customers"]].values.tolist()
    [['I', 1], ['II', 1], ['III', 1], ['IV', 1]]
    """
    if isinstance(data, Result) and data.meta.get("available") is False:
        return _passthrough(ValueMatrixResult, data, "split at the cuts (default medians)", "type")
    frame = _values(data, current_col)
    _values(data, potential_col)
    cur = pd.to_numeric(frame[current_col], errors="coerce")
    pot = pd.to_numeric(frame[potential_col], errors="coerce")
    ok = cur.notna() & pot.notna()
    warns = []
    if (~ok).any():
        msg = (
            f"{int((~ok).sum()):,} customers without a current value or growth potential (e.g. already churned) "
            "are not in the matrix."
        )
        import warnings

        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
        warns.append(msg)
    cur, pot = cur[ok].to_numpy(float), pot[ok].to_numpy(float)
    if cur.size < 4:
        raise DataValidationError(
            f"only {cur.size} customers have both values; the matrix needs at least 4.",
            column=current_col,
            rule="enough customers",
        )
    c_cut = float(np.median(cur)) if current_cut is None else float(current_cut)
    p_cut = float(np.median(pot)) if potential_cut is None else float(potential_cut)
    hi_c, hi_p = cur >= c_cut, pot >= p_cut
    typ = np.where(hi_c, np.where(hi_p, "IV", "III"), np.where(hi_p, "II", "I"))
    tot_c, tot_p = cur.sum(), pot.sum()
    rows = []
    for k, label in TYPES.items():
        m = typ == k
        rows.append(
            {
                "type": k,
                "label": label,
                "customers": int(m.sum()),
                "customer_share": m.mean(),
                "current_value": float(cur[m].sum()),
                "growth_potential": float(pot[m].sum()),
                "value_share": float(cur[m].sum() / tot_c) if tot_c else np.nan,
                "potential_share": float(pot[m].sum() / tot_p) if tot_p else np.nan,
                "mean_current_value": float(cur[m].mean()) if m.any() else np.nan,
            }
        )
    points = pd.DataFrame({"current_value": cur, "growth_potential": pot, "type": typ})
    return ValueMatrixResult(
        pd.DataFrame(rows),
        _meta_from(
            data,
            frame,
            n=int(cur.size),
            method="split at the cuts (default medians)",
            current_cut=c_cut,
            potential_cut=p_cut,
        ),
        tables={"points": points},
        warnings=warns,
        key="type",
    )


def lorenz_curve(
    data, *, value_col: str = "current_value", top_shares=(0.01, 0.05, 0.1, 0.2, 0.5)
) -> LorenzResult:
    """Lorenz curve, Gini coefficient and the share of value held by the top ``x`` of customers.

    Negative values are kept (the curve can dip below 0); missing values are excluded and counted.

    Examples
    --------
    >>> r = lorenz_curve(pd.DataFrame({"current_value": [1.0, 1.0, 1.0, 1.0]}))
    >>> round(r.meta["gini"], 6)
    0.0
    """
    if isinstance(data, Result) and data.meta.get("available") is False:
        return _passthrough(LorenzResult, data, "Lorenz curve of value", "term")
    frame = None
    if isinstance(data, (pd.Series, np.ndarray, list)):
        v = pd.Series(np.asarray(data, dtype=float))
    else:
        frame = _values(data, value_col)
        v = pd.to_numeric(frame[value_col], errors="coerce")
    warns = []
    if v.isna().any():
        warns.append(f"{int(v.isna().sum()):,} customers without a value are not in the curve.")
    x = np.sort(v.dropna().to_numpy(float))
    n = x.size
    if n < 2 or x.sum() == 0:
        raise DataValidationError(
            f"the Lorenz curve needs at least 2 values with a non-zero total, got {n}.",
            column=value_col,
            rule="values",
        )
    cum = np.concatenate([[0.0], np.cumsum(x)]) / x.sum()
    pop = np.arange(n + 1) / n
    gini = float(1 - np.sum((cum[1:] + cum[:-1]) / n))
    rows = []
    desc = x[::-1]
    for s in top_shares:
        k = max(int(np.ceil(s * n)), 1)
        rows.append(
            {"term": f"top {s:.0%} of customers", "estimate": float(desc[:k].sum() / x.sum())}
        )
    rows.append({"term": "gini", "estimate": gini})
    step = max(1, n // 500)
    idx = np.unique(np.r_[np.arange(0, n + 1, step), n])
    curve = pd.DataFrame({"customer_share": pop[idx], "value_share": cum[idx]})
    return LorenzResult(
        pd.DataFrame(rows),
        _meta_from(
            data,
            frame if frame is not None else v.to_frame("value"),
            n=n,
            method="Lorenz curve of value",
            gini=gini,
        ),
        tables={"curve": curve},
        warnings=warns,
        key="term",
    )


class ConfoundedEffectWarning(WorkbenchWarning):
    """An intervention effect is estimated from a treatment that was not randomised."""


class StrategyEffectResult(Result):
    """The hazard ratio of the retention strategy used for growth potential: ``estimate_`` and where it came
    from (``meta['source']``: 'estimated' from a randomised treatment, or 'assumed')."""

    title = "Effect of the retention strategy (hazard ratio)"


def strategy_effect(
    data,
    *,
    assumed_hr: float | None = None,
    treatment_col: str | None = None,
    fallback_hr: float | None = None,
    alpha: float = 0.05,
) -> StrategyEffectResult:
    """Hazard ratio of a retention strategy: stated (``assumed_hr``) or estimated from a randomised treatment.

    With ``assumed_hr`` the value is used as stated. Otherwise the first randomised treatment of the spec
    (or ``treatment_col``) is compared with its control arm by a Cox model
    (:func:`workbench.survival.cox.fit_cox`) among the customers in the experiment; the marginal
    all-cause hazard ratio is the estimate. Without a randomised treatment, ``fallback_hr`` is used as a
    stated assumption (with a warning), or an error asks for ``assumed_hr``.

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. *JRSS B*, 34(2), 187-220.
    """
    import warnings

    check_alpha(alpha)

    def _assumed(hr, why):
        if not isinstance(hr, (int, float)) or isinstance(hr, bool) or not hr > 0:
            raise ParameterError(
                f"the assumed hazard ratio must be a positive number (e.g. 0.85), got {hr!r}."
            )
        res = StrategyEffectResult(
            pd.DataFrame(
                [
                    {
                        "term": "strategy hazard ratio",
                        "estimate": float(hr),
                        "ci_lower": np.nan,
                        "ci_upper": np.nan,
                    }
                ]
            ),
            standard_meta(data, alpha=alpha, method=why, source="assumed"),
        )
        res.estimate_ = float(hr)
        return res

    if assumed_hr is not None:
        return _assumed(assumed_hr, "stated assumption (argument assumed_hr)")
    frame, spec = resolve_frame(data, func="strategy_effect")
    tr = None
    if spec is not None:
        cands = [t for t in spec.treatments if t.assignment == "randomised"]
        if treatment_col is not None:
            cands = [t for t in spec.treatments if t.column == treatment_col]
        tr = cands[0] if cands else None
    if tr is None:
        if fallback_hr is None:
            raise ParameterError(
                "no randomised treatment to estimate the strategy's effect from (the spec declares none"
                + (f" named '{treatment_col}'" if treatment_col else "")
                + "); pass `assumed_hr`, the hazard ratio you assume (e.g. 0.85)."
            )
        msg = (
            f"no randomised treatment in the data: growth potential uses the stated assumption hazard ratio "
            f"{fallback_hr:g}, not an estimate."
        )
        warnings.warn(msg, UnavailableWarning, stacklevel=2)
        res = _assumed(fallback_hr, "stated assumption (no randomised treatment in the data)")
        res.warnings.append(msg)
        return res
    from ..survival.cox import fit_cox

    col = tr.column
    inside = frame[col].notna() & frame[col].astype(str).ne("nan")
    sub = frame.loc[inside]
    treated = (sub[col].astype(str) != str(tr.control)).astype(int)
    if treated.nunique() < 2:
        raise DataValidationError(
            f"treatment '{col}' has a single arm among {len(sub)} customers; no effect to "
            "estimate. Pass `assumed_hr`.",
            column=col,
            rule="two arms",
        )
    fit_df = pd.DataFrame(
        {
            "tenure": sub[spec.tenure].to_numpy(float),
            "churned": sub[spec.event].to_numpy(int),
            "strategy": treated.to_numpy(),
        }
    )
    cox = fit_cox(
        fit_df, duration_col="tenure", event_col="churned", covariates=["strategy"], alpha=alpha
    )
    row = cox.summary.iloc[0]
    # log hazard ratio and its standard error: the same on every scale convention of the Cox summary
    z = stats.norm.ppf(1 - alpha / 2)
    log_hr, se = float(row["estimate"]), float(row["se"])
    warns = []
    if tr.assignment != "randomised":
        msg = f"treatment '{col}' was not randomised: its hazard ratio may be confounded."
        warnings.warn(msg, ConfoundedEffectWarning, stacklevel=2)
        warns.append(msg)
    res = StrategyEffectResult(
        pd.DataFrame(
            [
                {
                    "term": f"{col}: {', '.join(str(a) for a in (tr.arms or []) if str(a) != str(tr.control))} "
                    f"vs {tr.control}",
                    "estimate": math.exp(log_hr),
                    "ci_lower": math.exp(log_hr - z * se),
                    "ci_upper": math.exp(log_hr + z * se),
                    "p_value": float(row["p_value"]),
                }
            ]
        ),
        standard_meta(
            data,
            alpha=alpha,
            method="Cox model, all-cause churn, treatment indicator only",
            n=int(len(sub)),
            events=int(fit_df["churned"].sum()),
            reference_levels={col: tr.control},
            source="estimated",
            treatment_col=col,
            assignment=tr.assignment,
        ),
        warnings=warns,
    )
    res.estimate_ = math.exp(log_hr)
    return res
