"""Restricted mean survival time (RMST) per group, with R's standard error, and contrasts between
groups (difference, ratio). The estimate and its variance are :func:`workbench.survival.kernels.rmst_and_variance`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..aggregate.dataset import from_counts
from ..checks import check_alpha
from ..exceptions import ExtrapolationWarning, ParameterError
from ..results import Result
from ._frame import _group_warnings, prepare_survival_frame
from .kernels import km_estimate, rmst_and_variance

__all__ = ["RMSTResult", "rmst"]


class RMSTResult(Result):
    """Restricted mean survival time per group (see :func:`rmst`)."""

    title = "Restricted mean survival time"

    def _row(self, group: str) -> pd.Series:
        s = self.summary.set_index("group")
        if group not in s.index:
            raise ParameterError(
                f"`reference`={group!r} is not a group; groups are {list(s.index)}."
            )
        return s.loc[group]

    def _compare(self, reference: str | None, kind: str) -> pd.DataFrame:
        if len(self.summary) < 2:
            raise ParameterError(
                f"RMST {kind}s need at least two groups; this result has {list(self.summary['group'])}. "
                "Call rmst(..., group_col=...) with a grouping column."
            )
        reference = self.summary["group"].iloc[0] if reference is None else str(reference)
        ref = self._row(reference)
        z = stats.norm.ppf(1 - self.meta["alpha"] / 2)
        rows = []
        for _, r in self.summary.iterrows():
            if r["group"] == reference:
                continue
            if kind == "difference":
                est = r["estimate"] - ref["estimate"]
                se = float(np.hypot(r["se"], ref["se"]))
                lo, hi = est - z * se, est + z * se
                stat = est / se if se > 0 else np.nan
            else:
                est_log = np.log(r["estimate"] / ref["estimate"])
                se = float(np.hypot(r["se"] / r["estimate"], ref["se"] / ref["estimate"]))
                est = float(np.exp(est_log))
                lo, hi = np.exp(est_log - z * se), np.exp(est_log + z * se)
                stat = est_log / se if se > 0 else np.nan
            rows.append(
                {
                    "group": r["group"],
                    "reference": reference,
                    "estimate": est,
                    "se": se,
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "p_value": 2 * stats.norm.sf(abs(stat)) if np.isfinite(stat) else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def difference(self, reference: str | None = None) -> pd.DataFrame:
        """RMST difference of each group minus ``reference`` (default the first group).

        ``se`` is ``sqrt(se_g^2 + se_ref^2)`` (independent groups); normal-theory CI and p-value.
        """
        return self._compare(reference, "difference")

    def ratio(self, reference: str | None = None) -> pd.DataFrame:
        """RMST ratio of each group to ``reference``; CI by the delta method on the log scale.

        ``se`` is the standard error of the log ratio.
        """
        return self._compare(reference, "ratio")

    def plot(self, ax=None, **kwargs):
        from ..plotting.survival import plot_rmst

        return plot_rmst(self, ax=ax, **kwargs)


def rmst(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    tau: float,
    group_col: str | None = None,
    weights_col: str | None = None,
    alpha: float = 0.05,
    entry_col: str | None = None,
) -> RMSTResult:
    """Restricted mean survival time (RMST) up to ``tau`` per group, with R's standard error.

    The RMST is the area under the Kaplan-Meier curve from 0 to ``tau``: the expected months of
    customer life within the first ``tau`` months. Its variance is
    ``sum_i A_i^2 d_i / (n_i (n_i - d_i))`` over event times ``t_i <= tau``, with ``A_i`` the area
    under the curve from ``t_i`` to ``tau`` (the estimator's sampling variance, as
    ``print(survfit(...), rmean = tau)`` in R).

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col, group_col, weights_col : str, optional
    tau : float
        Horizon (tenure units), > 0.
    alpha : float
    entry_col : str, optional
        Delayed entry (left truncation): the curve is the Kaplan-Meier with risk sets starting at
        entry (R ``survfit(Surv(entry, tenure, churn) ~ 1)``, ``rmean``), see
        :func:`~workbench.survival.kaplan_meier`.

    Returns
    -------
    RMSTResult
        ``.summary``: ``group, tau, estimate, se, ci_lower, ci_upper``; ``.difference()``,
        ``.ratio()``.

    Warns
    -----
    ExtrapolationWarning
        ``tau`` is beyond a group's last follow-up time (the curve is carried flat, as R does).

    References
    ----------
    Royston, P. and Parmar, M. K. B. (2013). Restricted mean survival time: an alternative to the
    hazard ratio for the design and analysis of randomized trials with a time-to-event outcome.
    BMC Med Res Methodol 13, 152. Klein, J. P. and Moeschberger, M. L. (2003). Survival Analysis,
    section 4.5.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> r = rmst(load_dataset("synthetic", n_customers=2_000), tau=24, group_col="contract")
    >>> r.summary.columns.tolist()[:4]
    ['group', 'tau', 'estimate', 'se']
    """
    alpha = check_alpha(alpha)
    try:
        tau_f = float(tau)
    except (TypeError, ValueError):
        tau_f = float("nan")
    if isinstance(tau, bool) or not np.isfinite(tau_f) or tau_f <= 0:
        raise ParameterError(
            f"`tau` must be a positive number of tenure units (e.g. 24 months), got {tau!r}."
        )
    agg = from_counts(
        data,
        "rmst",
        duration_col=duration_col,
        event_col=event_col,
        not_from_counts={"weights_col": weights_col},
        tau=tau_f,
        group_col=group_col,
        alpha=alpha,
        entry_col=entry_col,
    )
    if agg is not None:
        return agg
    prep, info, messages = prepare_survival_frame(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        weights_col=weights_col,
        extra_cols=[entry_col] if entry_col is not None else (),
        func="rmst",
    )
    if entry_col is not None:
        from ..columns import entry_array
        from .km import late_entry_check

        prep["_entry"] = entry_array(prep, entry_col, prep["duration"].to_numpy(), func="rmst")
    messages += _group_warnings(prep, "rmst")
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for g, sub in prep.groupby("group", observed=True, sort=True):
        w = sub["weight"].to_numpy() if weights_col else None
        en = sub["_entry"].to_numpy() if entry_col is not None else None
        r = km_estimate(sub["duration"].to_numpy(), sub["event"].to_numpy(), w, entry=en)
        if en is not None:
            messages += late_entry_check(r, 10, f"group '{g}'", "rmst")
        est, var = rmst_and_variance(r["time"], r["survival"], r["at_risk"], r["events"], tau_f)
        last = r["time"][-1]
        if tau_f > last and r["survival"][-1] > 0:
            msg = (
                f"rmst: tau={tau_f:g} is beyond the last follow-up ({last:g}) of group '{g}'; the curve "
                "is carried flat beyond it (extrapolation). Choose tau within follow-up."
            )
            warnings.warn(msg, ExtrapolationWarning, stacklevel=2)
            messages.append(msg)
        se = float(np.sqrt(var))
        rows.append(
            {
                "group": str(g),
                "tau": tau_f,
                "estimate": est,
                "se": se,
                "ci_lower": est - z * se,
                "ci_upper": est + z * se,
                "n": float(w.sum()) if w is not None else len(sub),
                "events": int(sub["event"].sum()),
            }
        )
    meta = {
        "n": len(prep),
        "events": int(prep["event"].sum()),
        "alpha": alpha,
        "tau": tau_f,
        "method": "Kaplan-Meier RMST, Greenwood-type SE (R print.survfit rmean)"
        + (f", delayed entry at '{entry_col}'" if entry_col is not None else ""),
        "entry_col": entry_col,
        **info,
    }
    return RMSTResult(pd.DataFrame(rows), meta, warnings=messages)
