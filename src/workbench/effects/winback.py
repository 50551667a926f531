"""Win-back: among churned customers, reactivation within a window, contacted versus not contacted.

Reactivation is censored by the analysis date: a churner who has not come back yet was observed for
``months_observed_after_churn`` only. So the share reactivated within the window is estimated as
``1 - S(window)`` of a Kaplan-Meier curve of time to reactivation (time = months to reactivation if
reactivated, else months observed after churn, censored), with Greenwood CIs, and the groups are
compared with a log-rank test. The naive share (reactivated / churned) is reported beside it: it
undercounts, because recent churners have not had the whole window yet.

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations. JASA 53,
457-481.
Thomas, J. S., Blattberg, R. C. & Fox, E. J. (2004). Recapturing lost customers. Journal of Marketing
Research 41, 31-45.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_alpha
from ..columns import event_array
from ..data import Dataset
from ..exceptions import DataValidationError, ParameterError, RowsExcludedWarning
from ..results import Result, standard_meta
from .pseudo import greenwood_var, km_curve, logrank, step_at


class WinbackResult(Result):
    """Reactivation within the window: group, estimand, estimate, se, ci_lower, ci_upper, p_value.

    ``tables['curves']``: group, time, reactivated (1 - KM), n_at_risk."""

    title = "Win-back: reactivation after churn"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_winback

        return plot_winback(self, ax=ax, **kwargs)


def winback(
    data: Dataset | pd.DataFrame,
    *,
    contacted_col: str = "winback_contacted",
    reactivated_col: str = "reactivated",
    time_col: str = "months_to_reactivation",
    observed_col: str = "months_observed_after_churn",
    event_col: str | None = None,
    window: float = 3.0,
    alpha: float = 0.05,
    missing: str = "raise",
) -> WinbackResult:
    """Reactivation within ``window`` months of churn, contacted vs not contacted.

    Parameters
    ----------
    data : Dataset or DataFrame
    contacted_col : str
        1 if the churned customer was contacted by the win-back campaign, 0 if not (missing for
        customers who did not churn or were not in the campaign: excluded, counted).
    reactivated_col, time_col, observed_col : str
        Reactivated (0/1), months from churn to reactivation, months observed after churn.
    event_col : str, optional
        The churn event (default from the spec); only churned customers are analysed.
    window : float
        The reactivation window (default 3 months, the "hesitation window").
    alpha : float
    missing : {'raise', 'skip'}
        When a column is not in the data: raise :class:`ParameterError`, or return an empty result
        whose caveat names the missing columns (for notebooks that run on several data sets).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> res = winback(load_dataset("synthetic", n_customers=3_000, seed=2))
    >>> list(res.summary["estimand"])[:2]
    ['reactivation_within_window', 'reactivation_within_window']
    """
    alpha = check_alpha(alpha)  # before anything: alpha=1.5 once gave inverted intervals
    frame = data.frame if isinstance(data, Dataset) else data
    event_col = event_col or (data.spec.event if isinstance(data, Dataset) else None)
    if missing not in ("raise", "skip"):
        raise ParameterError(f"`missing` must be 'raise' or 'skip', got {missing!r}.")
    absent = [
        (name, col)
        for name, col in (
            ("contacted_col", contacted_col),
            ("reactivated_col", reactivated_col),
            ("time_col", time_col),
            ("observed_col", observed_col),
            ("event_col", event_col),
        )
        if col is None or col not in frame.columns
    ]
    if absent and missing == "skip":
        msg = (
            "win-back not analysed: the data have no column(s) "
            + ", ".join(repr(c) for _, c in absent)
            + "."
        )
        cols = ["group", "estimand", "horizon", "n", "estimate", "ci_lower", "ci_upper", "p_value"]
        return WinbackResult(
            pd.DataFrame(columns=cols),
            standard_meta(data, alpha=alpha, method="skipped", n=0, events=0, window=window),
            tables={"curves": pd.DataFrame(columns=["group", "time", "reactivated", "n_at_risk"])},
            warnings=[msg],
        )
    for name, col in absent:
        raise ParameterError(
            f"`{name}`: column {col!r} is not in the data; pass the column that holds it."
        )
    if not isinstance(window, (int, float)) or isinstance(window, bool) or window <= 0:
        raise ParameterError(f"`window` must be a positive number of months, got {window!r}.")
    churned = event_array(frame, event_col, argument="event_col", func="winback") == 1
    f = frame.loc[churned]
    caveats = []
    n_churned = len(f)  # the population by design (meta['n_churned']), not an exclusion
    exclusions: list[dict] = []
    bad = f[contacted_col].isna() | f[reactivated_col].isna() | f[observed_col].isna()
    if bad.any():
        msg = f"{int(bad.sum()):,} churned customers excluded: contact or reactivation status missing."
        caveats.append(msg)
        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
        f = f.loc[~bad]
        exclusions.append(
            {
                "rule": "missing",
                "n_rows": int(bad.sum()),
                "reason": "churned, contact or reactivation status missing",
            }
        )
    contacted = f[contacted_col].astype(float).to_numpy()
    if set(np.unique(contacted)) - {0.0, 1.0}:
        raise DataValidationError(
            f"`{contacted_col}` must be 0/1, got values {sorted(set(np.unique(contacted)))}.",
            column=contacted_col,
            rule="binary",
        )
    if len(np.unique(contacted)) < 2:
        raise DataValidationError(
            f"`{contacted_col}` has one group only; win-back needs contacted and not contacted.",
            column=contacted_col,
            rule="two_arms",
        )
    react = f[reactivated_col].astype(float).to_numpy()
    time = np.where(
        react == 1, f[time_col].to_numpy(dtype=float), f[observed_col].to_numpy(dtype=float)
    )
    time = np.maximum(time, 1e-6)
    z = stats.norm.ppf(1 - alpha / 2)
    rows, curves, est = [], [], {}
    for label, g in (("contacted", contacted == 1), ("not contacted", contacted == 0)):
        times, s, y, d, gw = km_curve(time[g], react[g])
        v = greenwood_var(s, gw)
        sw = step_at(times, s, window)[0]
        vw = step_at(times, v, window, start=0.0)[0]
        est[label] = (1 - sw, vw)
        rows.append(
            {
                "group": label,
                "estimand": "reactivation_within_window",
                "horizon": float(window),
                "n": int(g.sum()),
                "reactivated": int(react[g].sum()),
                "estimate": 1 - sw,
                "se": np.sqrt(vw),
                "ci_lower": max(0.0, 1 - sw - z * np.sqrt(vw)),
                "ci_upper": min(1.0, 1 - sw + z * np.sqrt(vw)),
                "p_value": np.nan,
                "naive_share": float(np.mean((react[g] == 1) & (time[g] <= window))),
            }
        )
        keep = times <= 4 * window
        curves.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": np.concatenate([[0.0], times[keep]]),
                    "reactivated": np.concatenate([[0.0], 1 - s[keep]]),
                    "n_at_risk": np.concatenate([[int(g.sum())], y[keep]]).astype(int),
                }
            )
        )
    diff = est["contacted"][0] - est["not contacted"][0]
    se = np.sqrt(est["contacted"][1] + est["not contacted"][1])
    _, p = logrank(time, react, contacted)
    rows.append(
        {
            "group": "contacted - not contacted",
            "estimand": "reactivation_difference",
            "horizon": float(window),
            "n": len(f),
            "reactivated": int(react.sum()),
            "estimate": diff,
            "se": se,
            "ci_lower": diff - z * se,
            "ci_upper": diff + z * se,
            "p_value": p,
            "naive_share": np.nan,
        }
    )
    meta = standard_meta(
        data,
        alpha=alpha,
        method="Kaplan-Meier of time to reactivation (censored at the analysis date), Greenwood CI, "
        "log-rank p-value",
        n=len(f),
        events=int(react.sum()),
        exclusions=list(getattr(data, "exclusions", None) or []) + exclusions,
        reference_levels={contacted_col: 0},  # the difference is contacted minus not contacted
        window=window,
        n_churned=n_churned,
        n_excluded=int(bad.sum()),
    )
    return WinbackResult(
        pd.DataFrame(rows),
        meta,
        tables={"curves": pd.concat(curves, ignore_index=True)},
        warnings=caveats,
    )
