"""Tests between groups of survival curves: log-rank (k groups, stratified, G-rho weights) and the
log-rank test for trend across ordered groups.

The statistics match R ``survival::survdiff`` (``rho`` as there); the trend statistic is the
score test of Klein and Moeschberger (2003), section 7.4, computed from the same observed,
expected and covariance terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..aggregate.dataset import from_counts
from ..checks import check_alpha
from ..columns import MAX_GROUPS, check_grouping
from ..exceptions import DataValidationError, ModelError, ParameterError
from ..results import Result
from ._frame import _group_warnings, prepare_survival_frame
from .kernels import distinct_sorted, level_codes, logrank_parts

__all__ = [
    "LogRankResult",
    "PairwiseLogRankResult",
    "TrendTestResult",
    "logrank_test",
    "pairwise_logrank",
    "trend_test",
]


def _logrank_parts(
    prep: pd.DataFrame, rho: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Observed, expected, covariance and group sizes summed over strata (the kernel's
    :func:`~workbench.survival.kernels.logrank_parts` on the prepared frame)."""
    return logrank_parts(
        prep["duration"].to_numpy(),
        prep["event"].to_numpy(),
        prep["_g"].to_numpy(),
        len(prep["group"].cat.categories),
        prep["stratum"].to_numpy(),
        rho,
        prep["_entry"].to_numpy() if "_entry" in prep else None,
        prep["weight"].to_numpy() if prep.attrs.get("weighted") else None,
    )


class LogRankResult(Result):
    """Log-rank test (see :func:`logrank_test`). ``summary``: one row ``test, statistic, df, p_value``;
    ``groups``: ``group, n, observed, expected, o_minus_e, oe2_over_e, oe2_over_v``."""

    title = "Log-rank test"
    key = "test"

    def __init__(self, summary, meta, *, groups, warnings=None):
        super().__init__(summary, meta, tables={"groups": groups}, warnings=warnings)
        self.groups = groups
        self.statistic = float(summary["statistic"].iloc[0])
        self.df = int(summary["df"].iloc[0])
        self.p_value = float(summary["p_value"].iloc[0])


def _prepare(
    data,
    duration_col,
    event_col,
    group_col,
    strata,
    func,
    entry_col=None,
    weights_col=None,
    max_groups=None,
):
    if group_col is None:
        spec = getattr(data, "spec", None)
        group_col = getattr(spec, "segment", None) if spec is not None else None
        if group_col is None:
            raise ParameterError(
                f"{func}: `group_col` is required (the column whose groups are compared)."
            )
    if max_groups is not None:  # refused before any test (personal columns too)
        check_grouping(
            data,
            group_col,
            argument="group_col",
            max_levels=max_groups,
            func=func,
            limit_argument="max_groups",
        )
    if isinstance(strata, str):
        strata = [strata]
    strata = list(strata or [])
    prep, info, messages = prepare_survival_frame(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        extra_cols=strata + ([entry_col] if entry_col is not None else []),
        weights_col=weights_col,
        func=func,
    )
    if weights_col is not None:
        w = prep["weight"].to_numpy()
        frac = w != np.round(w)
        if frac.any():
            raise DataValidationError(
                f"{func}: `weights_col`='{weights_col}' holds frequency weights (whole numbers of "
                f"customers per row), got {int(frac.sum()):,} fractional value(s) such as "
                f"{float(w[frac][0]):g}. The log-rank variance is defined for counts; round them, "
                "or compare weighted curves with kaplan_meier(weights_col=...) instead."
            )
    if entry_col is not None:
        from ..columns import entry_array

        prep["_entry"] = entry_array(prep, entry_col, prep["duration"].to_numpy(), func=func)
    if len(prep["group"].cat.categories) < 2:
        raise ParameterError(
            f"{func}: `group_col`='{group_col}' has only the level(s) {list(prep['group'].cat.categories)}; "
            "a test between groups needs at least two. Choose another grouping column."
        )
    if not np.any(prep["event"].to_numpy()[prep["weight"].to_numpy() > 0]):
        raise ModelError(
            f"{func}: there are no churn events in the data ({len(prep):,} customers, all censored); "
            "curves cannot be compared. Check `event_col` or use longer follow-up."
        )
    prep.index = pd.RangeIndex(len(prep))  # positions (our own frame: no copy needed)
    prep.attrs["weighted"] = weights_col is not None
    prep["_g"] = prep["group"].cat.codes.to_numpy()
    if strata:
        # factorised keys: one integer code per combination (no per-row string joins)
        codes = [level_codes(prep[c]) for c in strata]
        key = codes[0]
        for c in codes[1:]:
            if int(key.max()) >= 2**62 // (int(c.max()) + 1):  # keep the combined key in int64
                key = pd.factorize(key)[0].astype(np.int64)
            key = key * (int(c.max()) + 1) + c
        prep["stratum"] = key
    else:
        prep["stratum"] = 0
    messages += _group_warnings(prep, func)
    info["strata"] = strata
    return prep, info, messages


def logrank_test(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    strata: Sequence[str] | str | None = None,
    rho: float = 0.0,
    alpha: float = 0.05,
    entry_col: str | None = None,
    max_groups: int | None = MAX_GROUPS,
    weights_col: str | None = None,
) -> LogRankResult:
    """Log-rank test of equal survival across the k groups of ``group_col``, optionally stratified.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col : str, optional
        Default from the Dataset's spec.
    group_col : str
        The groups compared (default: the spec's segment column).
    strata : str or list of str, optional
        Compare groups within strata and sum the observed, expected and variance terms (R
        ``survdiff(... + strata(s))``).
    rho : float
        G-rho weights ``S(t-)^rho`` (0: log-rank, 1: Peto-Peto / Wilcoxon-type), as R.
    alpha : float
        Stored in ``meta``; the test reports its p-value.
    entry_col : str, optional
        Delayed entry (left truncation): customers are in the risk sets from this tenure on (the
        test equals the score test of R ``coxph(Surv(entry, tenure, churn) ~ group,
        ties = "breslow")``; R's ``survdiff`` does not take entry times).
    max_groups : int or None
        A ``group_col`` with more levels (default 20) is refused before the test (a group per
        customer name or per value of a continuous column); ``None``: no limit.
    weights_col : str, optional
        Frequency weights: whole numbers of customers each row stands for (e.g. the ``count`` of
        :func:`workbench.aggregate.counts`). The test then equals the one on the expanded rows
        (fractional weights are refused: the log-rank variance is defined for counts).

    Returns
    -------
    LogRankResult
        ``summary`` (``statistic`` chi-square, ``df`` = groups with expected > 0 minus 1,
        ``p_value``) and ``groups`` (observed and expected churn per group).

    Raises
    ------
    ParameterError
        Fewer than two groups; a personal ``group_col``.
    TooManyLevelsError
        ``group_col`` has more than ``max_groups`` levels.
    ModelError
        No events at all.

    References
    ----------
    Mantel, N. (1966). Evaluation of survival data and two new rank order statistics arising in
    its consideration. Cancer Chemotherapy Reports 50, 163-170. Harrington, D. P. and Fleming, T. R.
    (1982). A class of rank test procedures for censored survival data. Biometrika 69, 553-566.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> lr = logrank_test(load_dataset("synthetic", n_customers=2_000), group_col="contract")
    >>> lr.df
    2
    """
    alpha = check_alpha(alpha)
    try:
        rho = float(rho)
    except (TypeError, ValueError):
        raise ParameterError(f"`rho` must be a number >= 0 (0 = log-rank), got {rho!r}.") from None
    if not np.isfinite(rho) or rho < 0:
        raise ParameterError(f"`rho` must be a number >= 0 (0 = log-rank), got {rho!r}.")
    agg = from_counts(
        data,
        "logrank_test",
        duration_col=duration_col,
        event_col=event_col,
        defaults={"group_col": getattr(getattr(data, "spec", None), "segment", None)},
        not_from_counts={"weights_col": weights_col},
        group_col=group_col,
        strata=strata,
        rho=rho,
        alpha=alpha,
        entry_col=entry_col,
        max_groups=max_groups,
    )
    if agg is not None:
        return agg
    prep, info, messages = _prepare(
        data,
        duration_col,
        event_col,
        group_col,
        strata,
        "logrank_test",
        entry_col,
        weights_col,
        max_groups=max_groups,
    )
    obs, exp_, var, sizes = _logrank_parts(prep, rho)
    if weights_col is not None:
        sizes = np.rint(sizes).astype(np.int64)
    use = exp_ > 0
    df = int(use.sum()) - 1
    if df < 1:
        chi = 0.0
        df = 0
        p = 1.0
    else:
        diff = (obs - exp_)[use][1:]
        vv = var[np.ix_(use, use)][1:, 1:]
        try:
            chi = float(diff @ linalg.solve(vv, diff, assume_a="sym"))
        except linalg.LinAlgError:
            chi = float(diff @ linalg.pinv(vv) @ diff)
        p = float(stats.chi2.sf(chi, df))
    levels = list(prep["group"].cat.categories)
    with np.errstate(divide="ignore", invalid="ignore"):
        groups = pd.DataFrame(
            {
                "group": levels,
                "n": sizes,
                "observed": obs,
                "expected": exp_,
                "o_minus_e": obs - exp_,
                "oe2_over_e": (obs - exp_) ** 2 / exp_,
                "oe2_over_v": (obs - exp_) ** 2 / np.diag(var),
            }
        )
    name = "log-rank" if rho == 0 else f"G-rho (rho={rho:g})"
    if info["strata"]:
        name = f"stratified {name} (strata: {', '.join(info['strata'])})"
    if entry_col is not None:
        name = f"{name} with delayed entry"
    summary = pd.DataFrame([{"test": name, "statistic": chi, "df": df, "p_value": p}])
    wts = prep["weight"].to_numpy()
    meta = {
        "n": int(round(wts.sum())) if weights_col is not None else len(prep),
        "events": int(round((wts * prep["event"].to_numpy()).sum())),
        "alpha": alpha,
        "method": name,
        "rho": rho,
        "n_strata": len(distinct_sorted(prep["stratum"].to_numpy())[0]) if info["strata"] else 1,
        **info,
    }
    return LogRankResult(summary, meta, groups=groups, warnings=messages)


class PairwiseLogRankResult(Result):
    """Log-rank tests of every pair of groups (see :func:`pairwise_logrank`)."""

    title = "Pairwise log-rank tests"


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (as R ``p.adjust(method = "holm")``)."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def pairwise_logrank(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    strata: Sequence[str] | str | None = None,
    rho: float = 0.0,
    p_adjust: str = "holm",
    alpha: float = 0.05,
    max_groups: int = MAX_GROUPS,
) -> PairwiseLogRankResult:
    """Log-rank test of each pair of groups, with p-values adjusted for multiple comparisons.

    Each pair is tested on its own customers (R ``survdiff`` on the subset of the two groups);
    ``p_adjust`` is ``"holm"`` (default), ``"bonferroni"`` or ``"none"``. A ``group_col`` with more
    than ``max_groups`` levels (default 20) is refused before any test: k levels make k(k-1)/2 tests.

    Returns
    -------
    PairwiseLogRankResult
        ``summary``: ``group, reference, statistic, df, p_value, p_adjusted``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6, 65-70.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> pw = pairwise_logrank(load_dataset("synthetic", n_customers=2_000), group_col="contract")
    >>> len(pw.summary)
    3
    """
    alpha = check_alpha(alpha)
    if p_adjust not in ("holm", "bonferroni", "none"):
        raise ParameterError(
            f"`p_adjust` must be 'holm', 'bonferroni' or 'none', got {p_adjust!r}."
        )
    prep, info, messages = _prepare(
        data, duration_col, event_col, group_col, strata, "pairwise_logrank", max_groups=max_groups
    )
    levels = list(prep["group"].cat.categories)
    rows = []
    for i, ref in enumerate(levels):
        for g in levels[i + 1 :]:
            sub = prep[prep["group"].isin([ref, g])].copy()
            sub["group"] = sub["group"].cat.set_categories([ref, g])
            sub["_g"] = sub["group"].cat.codes.to_numpy()
            sub = sub.reset_index(drop=True)
            if sub["event"].sum() == 0:
                rows.append(
                    {"group": g, "reference": ref, "statistic": 0.0, "df": 0, "p_value": 1.0}
                )
                continue
            obs, exp_, var, _ = _logrank_parts(sub, rho)
            v = var[1, 1]
            chi = float((obs[1] - exp_[1]) ** 2 / v) if v > 0 else 0.0
            rows.append(
                {
                    "group": g,
                    "reference": ref,
                    "statistic": chi,
                    "df": 1 if v > 0 else 0,
                    "p_value": float(stats.chi2.sf(chi, 1)) if v > 0 else 1.0,
                }
            )
    summary = pd.DataFrame(rows)
    p = summary["p_value"].to_numpy()
    if p_adjust == "holm":
        summary["p_adjusted"] = _holm(p)
    elif p_adjust == "bonferroni":
        summary["p_adjusted"] = np.minimum(1.0, p * len(p))
    else:
        summary["p_adjusted"] = p
    meta = {
        "n": len(prep),
        "events": int(prep["event"].sum()),
        "alpha": alpha,
        "method": f"pairwise log-rank, {p_adjust} adjustment",
        "rho": rho,
        **info,
    }
    return PairwiseLogRankResult(summary, meta, warnings=messages)


class TrendTestResult(Result):
    """Log-rank test for trend (see :func:`trend_test`)."""

    title = "Log-rank test for trend"
    key = "test"


def trend_test(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    scores: Sequence[float] | dict | None = None,
    strata: Sequence[str] | str | None = None,
    alpha: float = 0.05,
) -> TrendTestResult:
    """Log-rank test for a monotone trend in the hazard across ordered groups.

    ``Z = a'(O - E) / sqrt(a' V a)`` with scores ``a`` (Klein and Moeschberger 2003, eq. 7.4.1),
    ``O - E`` and ``V`` the log-rank terms (summed over strata when given); ``Z^2`` is chi-square
    with 1 df. A positive ``statistic_z`` means more churn than expected in higher-scored groups.

    Parameters
    ----------
    group_col : str
        Ordered groups: a categorical's order, else sorted values.
    scores : sequence or dict, optional
        One score per group in that order (or ``{group: score}``); default ``1, 2, ..., k``, or the
        group values themselves when they are all numbers.

    Returns
    -------
    TrendTestResult
        ``summary``: ``test, statistic`` (chi-square), ``statistic_z``, ``df`` (1), ``p_value``.

    References
    ----------
    Klein, J. P. and Moeschberger, M. L. (2003). Survival Analysis: Techniques for Censored and
    Truncated Data, 2nd ed., section 7.4. Springer.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> tt = trend_test(load_dataset("synthetic", n_customers=2_000), group_col="contract")
    >>> bool(tt.summary["statistic_z"].iloc[0] < 0)
    True
    """
    alpha = check_alpha(alpha)
    prep, info, messages = _prepare(data, duration_col, event_col, group_col, strata, "trend_test")
    levels = list(prep["group"].cat.categories)
    k = len(levels)
    if scores is None:
        try:
            a = np.array([float(x) for x in levels])
        except ValueError:
            a = np.arange(1, k + 1, dtype=float)
    elif isinstance(scores, dict):
        missing = [g for g in levels if g not in {str(x) for x in scores}]
        if missing:
            raise ParameterError(
                f"`scores` has no score for group(s) {missing}; groups are {levels}."
            )
        sm = {str(kk): v for kk, v in scores.items()}
        a = np.array([float(sm[g]) for g in levels])
    else:
        a = np.asarray(list(scores), dtype=float)
        if a.shape != (k,):
            raise ParameterError(
                f"`scores` must give one number per group ({k}: {levels}), got {len(a)} value(s)."
            )
    if not np.isfinite(a).all() or np.ptp(a) == 0:
        raise DataValidationError(f"`scores` must be finite and not all equal, got {a.tolist()}.")
    obs, exp_, var, _ = _logrank_parts(prep, 0.0)
    num = float(a @ (obs - exp_))
    den = float(a @ var @ a)
    if den <= 0:
        raise ModelError(
            "trend_test: the variance of the trend statistic is zero (no events at comparable times)."
        )
    z = num / np.sqrt(den)
    summary = pd.DataFrame(
        [
            {
                "test": "log-rank trend",
                "statistic": z**2,
                "statistic_z": z,
                "df": 1,
                "p_value": float(2 * stats.norm.sf(abs(z))),
            }
        ]
    )
    meta = {
        "n": len(prep),
        "events": int(prep["event"].sum()),
        "alpha": alpha,
        "method": "log-rank test for trend (Klein & Moeschberger 7.4)",
        "scores": dict(zip(levels, a.tolist(), strict=True)),
        **info,
    }
    return TrendTestResult(summary, meta, warnings=messages)
