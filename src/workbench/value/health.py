"""Customer health score: build a 0-100 score from indicator groups and validate it against churn.

Validation is censoring-aware. For churn within ``horizon`` months of the score's measurement (the
time origin of the tenure column):

* **cumulative/dynamic AUC** (Heagerty, Lumley & Pepe 2000; IPCW form of Uno et al. 2007): cases churn
  by the horizon (weighted by ``1 / G(T_i)``, ``G`` the Kaplan-Meier curve of censoring), controls are
  still active after it; a low score should mark the cases;
* **Uno's concordance** truncated at the horizon (Uno et al. 2011), weights ``1 / G(T_i)^2``;
* **calibration**: observed churn by the horizon (1 - Kaplan-Meier) in score bands;
* **thresholds**: sensitivity (IPCW, among churners by the horizon) and specificity (among customers
  active after it) of flagging ``score < threshold`` for the domain's 70 and 50 and for the threshold
  that maximises Youden's J; lead time = months from the score to churn among flagged churners.

References
----------
Heagerty, P. J., Lumley, T. & Pepe, M. S. (2000). Time-dependent ROC curves for censored survival
data and a diagnostic marker. *Biometrics*, 56(2), 337-344.
Uno, H., Cai, T., Tian, L. & Wei, L. J. (2007). Evaluating prediction rules for t-year survivors with
censored regression models. *JASA*, 102(478), 527-537.
Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B. & Wei, L. J. (2011). On the C-statistics for
evaluating overall adequacy of risk prediction procedures with censored survival data. *Statistics in
Medicine*, 30(10), 1105-1117.
Youden, W. J. (1950). Index for rating diagnostic tests. *Cancer*, 3(1), 32-35.
"""

from __future__ import annotations

import bisect
import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..columns import check_alpha, column_name, months_per_unit, resolve
from ..exceptions import (
    DataValidationError,
    ModelError,
    ParameterError,
    RowsExcludedWarning,
    SmallSampleWarning,
    UnavailableWarning,
)
from ..results import Result, standard_meta
from ..survival.kernels import censoring_km, km_estimate

#: indicator groups of the domain brief (section 7) -> (column, +1 if higher is healthier else -1)
DEFAULT_INDICATORS = {
    "activity": [("logins_per_month", 1)],
    "spending": [("spend_change_pct", 1)],
    "risk": [("n_complaints", -1)],
    "relationship": [("contact_changed", -1)],
}


class HealthScoreResult(Result):
    """Threshold table in ``summary``; AUC and concordance in ``meta`` and ``tables['discrimination']``;
    ``tables['calibration']`` and ``tables['roc']``."""

    title = "Health score validation"

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_health_roc

        return plot_health_roc(self, ax=ax, **kwargs)


# ------------------------------------------------------------------------------------- building
def build_health_score(data, *, indicators: dict | None = None) -> tuple[pd.Series, dict]:
    """A 0-100 health score from the indicator groups the data have.

    Each indicator is turned into its percentile rank (mid-ranks, oriented so that higher is healthier),
    indicators are averaged within their group, groups are averaged with equal weight, and the result is
    scaled to 0-100. Groups without any column in the data are skipped and listed.

    Returns
    -------
    score : Series (0-100, float)
    info : dict with ``groups_used``, ``groups_missing``, ``columns``

    Raises
    ------
    ParameterError
        No indicator of any group is in the data.
    """
    frame = data.frame if hasattr(data, "spec") else data
    indicators = indicators or DEFAULT_INDICATORS
    group_scores, used, missing_groups, cols = [], [], [], []
    for group, items in indicators.items():
        parts = []
        for col, sign in items:
            if col not in frame.columns:
                continue
            s = pd.to_numeric(frame[col], errors="coerce")
            if s.isna().any():
                raise DataValidationError(
                    f"indicator '{col}' has {int(s.isna().sum())} missing value(s); fill or "
                    "drop them before building the health score.",
                    column=col,
                    rule="indicator present",
                )
            r = s.rank(method="average", pct=True)
            parts.append(r if sign > 0 else 1 - r + 1 / len(s))
            cols.append(col)
        if parts:
            group_scores.append(sum(parts) / len(parts))
            used.append(group)
        else:
            missing_groups.append(group)
    if not group_scores:
        raise ParameterError(
            f"none of the health indicators {[c for v in indicators.values() for c, _ in v]} is in the data; pass "
            "`score_col` (an existing 0-100 score) or `indicators={group: [(column, +1/-1), ...]}`."
        )
    raw = sum(group_scores) / len(group_scores)
    lo, hi = raw.min(), raw.max()
    score = 100 * (raw - lo) / (hi - lo) if hi > lo else raw * 0 + 50.0
    return score.clip(0.0, 100.0).rename("health_score_built"), {
        "groups_used": used,
        "groups_missing": missing_groups,
        "columns": cols,
    }


# ------------------------------------------------------------------------------------- metrics
def censoring_survival(time, event) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier curve of the censoring time ``G`` (churn at a tied time counts as before
    censoring): the survival kernels' :func:`~workbench.survival.kernels.censoring_km`."""
    return censoring_km(np.asarray(time, float), np.asarray(event, bool))


def _g_at(gt, gs, x):
    idx = np.searchsorted(gt, x, side="right") - 1
    return np.where(idx >= 0, gs[np.clip(idx, 0, None)], 1.0)


def cumulative_dynamic_auc(time, event, risk, horizon: float) -> float:
    """IPCW cumulative/dynamic AUC at ``horizon`` (ties in risk count one half).

    Cases: ``T_i <= horizon`` and churned, weight ``1 / G(T_i)``; controls: ``T_j > horizon``. Agrees with
    ``sksurv.metrics.cumulative_dynamic_auc`` when the censoring curve is estimated from the same data.
    """
    t = np.asarray(time, float)
    e = np.asarray(event, bool)
    r = np.asarray(risk, float)
    gt, gs = censoring_survival(t, e)
    case = e & (t <= horizon)
    ctrl = t > horizon
    if not case.any() or not ctrl.any():
        return float("nan")
    w = 1.0 / _g_at(gt, gs, t[case])
    rc = np.sort(r[ctrl])
    less = np.searchsorted(rc, r[case], side="left")
    leq = np.searchsorted(rc, r[case], side="right")
    num = np.sum(w * (less + 0.5 * (leq - less)))
    return float(num / (w.sum() * rc.size))


def uno_concordance(time, event, risk, tau: float) -> float:
    """Uno's IPCW concordance truncated at ``tau``, counted as ``sksurv.metrics.concordance_index_ipcw``.

    Comparable pairs: ``i`` churned at ``T_i < tau`` and ``j`` still at risk after her, that is
    ``T_j > T_i``, or ``T_j == T_i`` with ``j`` censored (a customer censored at a churner's time was
    at risk at that time, as in R's ``survival::concordance`` and the project's Harrell C); two
    churners at the same time are not comparable. Weight ``1 / G(T_i)^2`` with ``G`` the Kaplan-Meier
    curve of censoring (churn at a tied time counted first); ties in risk count one half.

    Examples
    --------
    >>> uno_concordance([1, 1, 2, 3], [1, 0, 1, 0], [0.9, 0.1, 0.5, 0.2], tau=3)
    1.0

    References
    ----------
    Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B. & Wei, L. J. (2011). On the C-statistics for
    evaluating overall adequacy of risk prediction procedures with censored survival data.
    *Statistics in Medicine*, 30(10), 1105-1117.
    """
    t = np.asarray(time, float)
    e = np.asarray(event, bool)
    r = np.asarray(risk, float)
    gt, gs = censoring_survival(t, e)
    order = np.argsort(-t, kind="mergesort")
    later: list[float] = []
    num = den = 0.0
    i = 0
    n = t.size
    while i < n:
        j = i
        while j < n and t[order[j]] == t[order[i]]:
            j += 1
        block = order[i:j]
        censored_here = sorted(r[k] for k in block if not e[k])
        for k in block:
            if e[k] and t[k] < tau and (later or censored_here):
                g = float(_g_at(gt, gs, t[k]))
                if g <= 0:
                    raise ModelError(
                        f"Uno's C: the censoring survival G is 0 at churn time {t[k]:g} (every "
                        "customer still followed was censored by then), so its weight 1/G^2 is "
                        f"infinite; choose `tau` at or below {t[k]:g} (as sksurv also requires)."
                    )
                w = 1.0 / (g * g)
                for pool in (later, censored_here):
                    lo = bisect.bisect_left(pool, r[k])
                    hi = bisect.bisect_right(pool, r[k])
                    num += w * (lo + 0.5 * (hi - lo))
                    den += w * len(pool)
        for k in block:
            bisect.insort(later, r[k])
        i = j
    return float(num / den) if den > 0 else float("nan")


def _threshold_stats(score, t, e, horizon, gt, gs, cut):
    case = e & (t <= horizon)
    ctrl = t > horizon
    w = 1.0 / _g_at(gt, gs, t[case])
    flag = score < cut
    sens = float(np.sum(w * flag[case]) / w.sum())
    spec = float(np.mean(~flag[ctrl]))
    flagged_cases = case & flag
    lead = float(np.median(t[flagged_cases])) if flagged_cases.any() else np.nan
    return sens, spec, float(flag.mean()), lead


def _check_thresholds(thresholds, lo: float, hi: float) -> list[float]:
    """Warning thresholds as numbers inside the score's range (a threshold outside it flags no one
    or everyone, so its sensitivity and specificity would be meaningless)."""
    if isinstance(thresholds, (str, bytes)) or not hasattr(thresholds, "__iter__"):
        raise ParameterError(
            f"validate_health_score: `thresholds` must be a list of numbers, got {thresholds!r}. "
            "Use e.g. thresholds=[70, 50]."
        )
    out = []
    for c in thresholds:
        try:
            v = float(c)
        except (TypeError, ValueError):
            raise ParameterError(
                f"validate_health_score: `thresholds` must be numbers, got {c!r} in {list(thresholds)!r}. "
                "Use e.g. thresholds=[70, 50]."
            ) from None
        if not (math.isfinite(v) and lo < v <= hi):
            raise ParameterError(
                f"validate_health_score: threshold {c!r} lies outside the score range ({lo:g}, {hi:g}]: "
                "flagging 'score below it' would flag no one or everyone. Pass thresholds inside "
                "the range, or the score's true `score_range`."
            )
        out.append(v)
    return out


def validate_health_score(
    data,
    *,
    score_col: str | None = None,
    horizon_months: float = 6.0,
    landmark_months: float = 0.0,
    thresholds=(70, 50),
    score_range=(0, 100),
    higher_is_healthier: bool = True,
    indicators: dict | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    n_bands: int = 10,
    n_boot: int = 100,
    seed: int = 0,
    tenure_unit: str | None = None,
    alpha: float = 0.05,
) -> HealthScoreResult:
    """Predictive validity of a health score for churn within ``horizon_months``.

    Parameters
    ----------
    data : Dataset or DataFrame
    score_col : str, optional
        The score column. Default: ``health_score`` if present, else a score built by
        :func:`build_health_score` from the indicator groups found; if neither, the result is empty and
        says the analysis is unavailable.
    horizon_months : float
    thresholds : sequence of float
        Warning thresholds to assess (the domain's 70 = warning, 50 = high risk); flagged = score below.
    score_range : (low, high)
        Allowed range of the score; values outside raise an error.
    higher_is_healthier : bool
        False for a risk score (e.g. a churn score): it is reflected onto the same range first.
    landmark_months : float
        When the score was measured, in months of tenure: only customers still active at the landmark are
        assessed (the others are counted, warned about and listed in ``meta``), and churn is counted
        within ``horizon_months`` after it; lead times run from the landmark. Default 0 (at joining).
    n_bands : int
        Score bands (quantiles) of the calibration table.
    n_boot : int
        Bootstrap replicates for the AUC and concordance CIs.

    Returns
    -------
    HealthScoreResult
        ``summary``: ``threshold, rule, flagged_share, sensitivity, specificity, youden_j,
        lead_time_median_months``; ``meta``: ``auc``, ``concordance`` and CIs.

    Raises
    ------
    DataValidationError
        A score outside ``score_range`` or missing.

    References
    ----------
    Uno, H., Cai, T., Tian, L. & Wei, L. J. (2007). Evaluating prediction rules for t-year survivors
    with censored regression models. *JASA*, 102(478), 527-537.
    """
    check_alpha(alpha)
    if not isinstance(landmark_months, (int, float)) or landmark_months < 0:
        raise ParameterError(f"`landmark_months` must be >= 0, got {landmark_months!r}.")
    if not horizon_months > 0:
        raise ParameterError(f"`horizon_months` must be positive, got {horizon_months!r}.")
    lo_r, hi_r = score_range
    thresholds = _check_thresholds(thresholds, lo_r, hi_r)
    r = resolve(
        data,
        duration_col=duration_col,
        event_col=event_col,
        tenure_unit=tenure_unit,
        covariates=[],
        func="validate_health_score",
    )
    f = r.frame
    base_meta = standard_meta(
        r,
        alpha=alpha,
        method="IPCW cumulative/dynamic AUC, Uno's C, IPCW sensitivity; bootstrap CIs",
        horizon_months=float(horizon_months),
    )
    warns: list[str] = []
    columns = [
        "threshold",
        "rule",
        "flagged_share",
        "sensitivity",
        "specificity",
        "youden_j",
        "lead_time_median_months",
    ]
    source = ""
    if not score_col:
        if "health_score" in f.columns:
            score_col = "health_score"
        else:
            try:
                built, info = build_health_score(f, indicators=indicators)
            except ParameterError:
                msg = (
                    "no health score column and none of the indicator groups (activity, spending, risk, "
                    "relationship) in the data: health-score validation is unavailable; pass "
                    "`score_col` (notebook parameter `score_col`) to enable it."
                )
                warnings.warn(msg, UnavailableWarning, stacklevel=2)
                return HealthScoreResult(
                    pd.DataFrame(columns=columns),
                    {**base_meta, "available": False, "reason": msg},
                    warnings=[msg],
                    key="threshold",
                )
            f = f.assign(health_score_built=built.to_numpy())
            score_col = "health_score_built"
            source = (
                f"built from indicator groups {info['groups_used']} (columns {info['columns']}); missing "
                f"groups: {info['groups_missing'] or 'none'}"
            )
    if score_col not in f.columns:
        column_name(f, score_col, argument="score_col", func="validate_health_score")
    s = pd.to_numeric(f[score_col], errors="coerce")
    if s.isna().any():
        raise DataValidationError(
            f"score column '{score_col}' has {int(s.isna().sum())} missing or non-numeric "
            "value(s); a score is needed for every customer.",
            column=score_col,
            rule="score present",
            n_rows=int(s.isna().sum()),
        )
    out = (s < lo_r) | (s > hi_r)
    if out.any():
        raise DataValidationError(
            f"score column '{score_col}' has {int(out.sum()):,} value(s) outside its range [{lo_r}, {hi_r}] (min "
            f"{s.min():g}, max {s.max():g}). Rescale the score to [{lo_r}, {hi_r}] or pass its true `score_range`.",
            column=score_col,
            rule="score in range",
            n_rows=int(out.sum()),
        )
    score = s.to_numpy(float)
    if not higher_is_healthier:
        score = lo_r + hi_r - score
        source = (source + "; " if source else "") + f"'{score_col}' reflected (higher = riskier)"
    t = r.duration * months_per_unit(r.unit)
    e = r.event.astype(bool)
    n_before_landmark = 0
    if landmark_months > 0:
        alive = t > landmark_months
        n_before_landmark = int((~alive).sum())
        if n_before_landmark:
            msg = (
                f"{n_before_landmark:,} customers churned or were censored before the landmark "
                f"({landmark_months:g} months) and are not assessed."
            )
            warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
            warns.append(msg)
        t, e, score = t[alive] - landmark_months, e[alive], score[alive]
    case = e & (t <= horizon_months)
    ctrl = t > horizon_months
    if case.sum() < 10 or ctrl.sum() < 10:
        msg = (
            f"only {int(case.sum())} churners within {horizon_months:g} months and {int(ctrl.sum())} customers "
            "followed beyond it: the validation is very uncertain."
        )
        warnings.warn(msg, SmallSampleWarning, stacklevel=2)
        warns.append(msg)
        if case.sum() == 0 or ctrl.sum() == 0:
            return HealthScoreResult(
                pd.DataFrame(columns=columns),
                {**base_meta, "available": False, "reason": msg},
                warnings=warns,
                key="threshold",
            )
    n_cens_before = int((~e & (t <= horizon_months)).sum())
    if n_cens_before:
        warns.append(
            f"{n_cens_before:,} customers censored before {horizon_months:g} months have unknown status; "
            "they enter through inverse-probability-of-censoring weights, not as non-churners."
        )
    risk = -score
    auc = cumulative_dynamic_auc(t, e, risk, horizon_months)
    cidx = uno_concordance(t, e, risk, horizon_months)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, t.size, t.size)
        boots.append((cumulative_dynamic_auc(t[i], e[i], risk[i], horizon_months), np.nan))
    boots = np.array(boots, dtype=float).reshape(-1, 2)
    q = (alpha / 2, 1 - alpha / 2)
    disc = pd.DataFrame(
        [
            {
                "term": f"AUC at {horizon_months:g} months (cumulative/dynamic, IPCW)",
                "estimate": auc,
                "ci_lower": np.nanquantile(boots[:, 0], q[0]) if n_boot > 1 else np.nan,
                "ci_upper": np.nanquantile(boots[:, 0], q[1]) if n_boot > 1 else np.nan,
            },
            {
                "term": f"Uno's C up to {horizon_months:g} months",
                "estimate": cidx,
                "ci_lower": np.nanquantile(boots[:, 1], q[0])
                if n_boot > 1 and np.isfinite(boots[:, 1]).any()
                else np.nan,
                "ci_upper": np.nanquantile(boots[:, 1], q[1])
                if n_boot > 1 and np.isfinite(boots[:, 1]).any()
                else np.nan,
            },
        ]
    )
    gt, gs = censoring_survival(t, e)
    # thresholds: the given ones and Youden's
    cands = np.unique(score)
    cands = np.r_[cands, cands.max() + 1]
    w_case = 1.0 / _g_at(gt, gs, t[case])
    sc_case, sc_ctrl = score[case], np.sort(score[ctrl])
    o = np.argsort(sc_case)
    cum_w = np.r_[0.0, np.cumsum(w_case[o])]
    sens_c = cum_w[np.searchsorted(sc_case[o], cands, side="left")] / w_case.sum()
    spec_c = 1 - np.searchsorted(sc_ctrl, cands, side="left") / sc_ctrl.size
    j = sens_c + spec_c - 1
    best = float(cands[int(np.argmax(j))])
    rows = []
    for cut, rule in [(float(c), "given") for c in thresholds] + [(best, "Youden (from the data)")]:
        sens, spec, share, lead = _threshold_stats(score, t, e, horizon_months, gt, gs, cut)
        rows.append(
            {
                "threshold": cut,
                "rule": rule,
                "flagged_share": share,
                "sensitivity": sens,
                "specificity": spec,
                "youden_j": sens + spec - 1,
                "lead_time_median_months": lead,
            }
        )
    roc = pd.DataFrame(
        {"threshold": cands, "sensitivity": sens_c, "false_positive_rate": 1 - spec_c}
    )
    # calibration: observed churn by the horizon in score bands
    bands = pd.qcut(score, q=min(n_bands, np.unique(score).size), duplicates="drop")
    z = stats.norm.ppf(1 - alpha / 2)
    cal = []
    for b in bands.categories:
        m = np.asarray(bands == b)
        km = km_estimate(t[m], e[m])
        idx = np.searchsorted(km["time"], horizon_months, side="right") - 1
        sv = float(km["survival"][idx]) if idx >= 0 else 1.0
        gw = float(km["greenwood"][idx]) if idx >= 0 else 0.0
        se = sv * math.sqrt(gw) if np.isfinite(gw) else np.nan
        cal.append(
            {
                "band": str(b),
                "customers": int(m.sum()),
                "mean_score": float(score[m].mean()),
                "observed_churn": 1 - sv,
                "ci_lower": max(1 - sv - z * se, 0.0),
                "ci_upper": min(1 - sv + z * se, 1.0),
            }
        )
    cal = pd.DataFrame(cal)
    rho = (
        stats.spearmanr(cal["mean_score"], cal["observed_churn"]).statistic
        if len(cal) > 2
        else np.nan
    )
    meta = {
        **base_meta,
        "n": int(t.size),
        "events": int(case.sum()),
        "score_col": score_col,
        "score_source": source or f"column '{score_col}'",
        "horizon_months": float(horizon_months),
        "auc": auc,
        "concordance": cidx,
        "youden_threshold": best,
        "calibration_spearman": float(rho),
        "available": True,
        "censored_before_horizon": n_cens_before,
        "landmark_months": float(landmark_months),
        "excluded_before_landmark": n_before_landmark,
        "method": "IPCW cumulative/dynamic AUC, Uno's C, IPCW sensitivity; bootstrap CIs",
    }
    meta["note"] = "bootstrap percentile CI for the AUC; Uno's C is reported without a CI"
    return HealthScoreResult(
        pd.DataFrame(rows, columns=columns),
        meta,
        tables={"discrimination": disc, "calibration": cal, "roc": roc},
        warnings=warns,
        key="threshold",
    )


__all__ = [
    "DEFAULT_INDICATORS",
    "HealthScoreResult",
    "RowsExcludedWarning",
    "build_health_score",
    "censoring_survival",
    "cumulative_dynamic_auc",
    "uno_concordance",
    "validate_health_score",
]
