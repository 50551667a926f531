"""Probing an estimate: the E-value for unmeasured confounding and a negative-control outcome.

E-value (VanderWeele & Ding 2017): the minimum strength of association, on the risk-ratio scale, that
an unmeasured confounder would need with both the treatment and the outcome, conditional on the
measured confounders, to explain away the observed risk ratio: ``RR + sqrt(RR (RR - 1))`` for
``RR >= 1`` (use ``1 / RR`` below 1). For the confidence limit nearest the null it is computed the same
way (1 when the interval includes 1). Hazard ratios of a common outcome (churn over the horizon is
common) are first converted to the risk-ratio scale with ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``;
for a rare outcome (< 15%) the HR is used as it is.

Negative control outcome (Lipsitch, Tchetgen Tchetgen & Cohen 2010): an outcome the intervention cannot
affect but that shares the confounding, e.g. *natural* churn (moving away, death) for a retention
offer. A weighted effect on it that is clearly not null points to residual confounding.

References
----------
VanderWeele, T. J. & Ding, P. (2017). Sensitivity analysis in observational research: introducing the
E-value. Annals of Internal Medicine 167, 268-274.
Lipsitch, M., Tchetgen Tchetgen, E. & Cohen, T. (2010). Negative controls: a tool for detecting
confounding and bias in observational studies. Epidemiology 21, 383-388.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ParameterError, WorkbenchWarning
from ..results import Result


class NegativeControlWarning(WorkbenchWarning):
    """The effect on a negative-control outcome is not null: residual confounding is likely."""


class EValueResult(Result):
    """E-values: arm, measure, estimate, ci_lower, ci_upper, rr (risk-ratio scale), e_value, e_value_ci."""

    title = "E-value for unmeasured confounding"
    key = "measure"


class NegativeControlResult(Result):
    """Effect of the treatment on a negative-control outcome: arm, estimand, estimate, CI, p_value."""

    title = "Negative-control outcome"
    key = "estimand"


def _e(rr: float) -> float:
    if not np.isfinite(rr) or rr <= 0:
        return float("nan")
    rr = 1 / rr if rr < 1 else rr
    return float(rr + math.sqrt(rr * (rr - 1)))


def hr_to_rr(hr: float, rare: bool = False) -> float:
    """Hazard ratio on the risk-ratio scale (VanderWeele 2020 conversion for a common outcome)."""
    if rare:
        return float(hr)
    return float((1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr)))


def e_value(
    estimate: float,
    ci_lower: float | None = None,
    ci_upper: float | None = None,
    *,
    measure: str = "rr",
    rare: bool = False,
) -> dict:
    """E-value of a ratio estimate and of its confidence limit nearest the null.

    Parameters
    ----------
    estimate, ci_lower, ci_upper : float
        A risk ratio (``measure='rr'``) or hazard ratio (``measure='hr'``) and its CI.
    measure : {'rr', 'hr'}
    rare : bool
        For ``'hr'``: the outcome is rare (< 15% by the end of follow-up), so HR ~ RR.

    Returns
    -------
    dict with ``rr``, ``e_value``, ``e_value_ci``.

    Examples
    --------
    >>> round(e_value(3.9, 1.8, 8.7)["e_value"], 2)
    7.26
    """
    if measure not in ("rr", "hr"):
        raise ParameterError(f"`measure` must be 'rr' or 'hr', got {measure!r}.")
    for name, v in (("estimate", estimate), ("ci_lower", ci_lower), ("ci_upper", ci_upper)):
        if v is not None and (not np.isfinite(v) or v <= 0):
            raise ParameterError(f"`{name}` must be a positive ratio, got {v!r}.")
    conv = (lambda x: hr_to_rr(x, rare)) if measure == "hr" else float
    rr = conv(estimate)
    out = {"rr": rr, "e_value": _e(rr), "e_value_ci": float("nan")}
    if ci_lower is not None and ci_upper is not None:
        lo, hi = conv(ci_lower), conv(ci_upper)
        if lo <= 1 <= hi:
            out["e_value_ci"] = 1.0
        else:
            out["e_value_ci"] = _e(lo if rr > 1 else hi)
    return out


def e_values(effects: Result, *, rare: bool = False) -> EValueResult:
    """E-values of the hazard ratios (and churn risk ratios at each horizon) of an ``EffectResult``."""
    s = effects.summary
    rows = []
    for _, r in s.loc[s["estimand"] == "hazard_ratio"].iterrows():
        ev = e_value(r["estimate"], r["ci_lower"], r["ci_upper"], measure="hr", rare=rare)
        rows.append(
            {
                "arm": r["arm"],
                "measure": "hazard_ratio",
                "horizon": np.nan,
                "method": r["method"],
                "estimate": r["estimate"],
                "ci_lower": r["ci_lower"],
                "ci_upper": r["ci_upper"],
                **ev,
            }
        )
    # churn risk ratio (1 - S_arm) / (1 - S_control) at each horizon, point estimate only
    for (arm, h, method), g in s.loc[
        s["estimand"].isin(["survival_arm", "survival_control"])
    ].groupby(["arm", "horizon", "method"], sort=False):
        v = dict(zip(g["estimand"], g["estimate"]))
        if {"survival_arm", "survival_control"} <= set(v) and v["survival_control"] < 1:
            rr = (1 - v["survival_arm"]) / (1 - v["survival_control"])
            if rr > 0:
                rows.append(
                    {
                        "arm": arm,
                        "measure": "churn_risk_ratio",
                        "horizon": h,
                        "method": method,
                        "estimate": rr,
                        "ci_lower": np.nan,
                        "ci_upper": np.nan,
                        **e_value(rr),
                    }
                )
    df = pd.DataFrame(rows)
    from .results import derived_meta

    return EValueResult(
        df, derived_meta(effects, method="VanderWeele & Ding (2017)", rare_outcome=rare)
    )


def negative_control(
    study,
    *,
    outcome_value: str = "natural",
    churn_type_col: str | None = None,
    weighting: str = "ipw",
    trim: float | None = None,
    missing: str = "raise",
) -> NegativeControlResult:
    """Weighted hazard ratio of the treatment on a negative-control churn cause (others censored).

    The cause-specific hazard of ``outcome_value`` (e.g. 'natural' churn, which no retention
    intervention affects) is compared between arms with the study's balancing weights; the SE is the
    robust (sandwich) one of a weighted Cox model (``coxph(weights=, robust=TRUE)``), conditional on the
    estimated weights. A CI excluding 1 raises :class:`NegativeControlWarning`. With
    ``missing='skip'`` a data set without that churn type gives an empty result with a caveat.
    """
    from . import estimators as est

    if missing not in ("raise", "skip"):
        raise ParameterError(f"`missing` must be 'raise' or 'skip', got {missing!r}.")
    col = churn_type_col
    if missing == "skip":
        f = study.frame_
        why = None
        if not outcome_value:
            why = "no negative-control outcome given"
        elif col is None or col not in f.columns:
            why = f"the data have no churn-type column ({col!r})"
        elif not (f[col].astype(str) == outcome_value).any():
            why = f"churn type {outcome_value!r} never occurs in '{col}'"
        if why:
            cols = ["arm", "estimand", "estimate", "se", "ci_lower", "ci_upper", "p_value"]
            return NegativeControlResult(
                pd.DataFrame(columns=cols),
                study._meta(method="skipped"),
                warnings=[f"negative-control check not run: {why}."],
            )
    if col is None:
        raise ParameterError("`churn_type_col` is required (the spec's churn_type role names it).")
    f = study.frame_
    if col not in f.columns:
        raise ParameterError(f"`churn_type_col`: column '{col}' is not in the data.")
    if not (f[col].astype(str) == outcome_value).any():
        raise ParameterError(
            f"`outcome_value` {outcome_value!r} never occurs in '{col}'; values: "
            f"{sorted(f[col].dropna().astype(str).unique())}."
        )
    z = stats.norm.ppf(1 - study.alpha / 2)
    rows, caveats = [], []
    wr = study.weights(weighting, trim=trim) if study.confounders else None
    for arm in study.arms_:
        sub = study._pair(arm)
        d, _, t = study._arrays(sub, arm)
        e = (sub[col].astype(str) == outcome_value).to_numpy().astype(float)
        w = study._weights_cache[arm] if wr is not None else np.ones(len(t))
        b, se = est.robust_cox_hr(d, e, t, w)
        p = 2 * stats.norm.sf(abs(b / se))
        rows.append(
            {
                "arm": arm,
                "estimand": f"hazard_ratio ({outcome_value} churn)",
                "estimate": math.exp(b),
                "se": se * math.exp(b),
                "ci_lower": math.exp(b - z * se),
                "ci_upper": math.exp(b + z * se),
                "p_value": p,
                "events": int(e.sum()),
                "method": weighting if wr is not None else "none",
            }
        )
        if p < study.alpha:
            msg = (
                f"negative control: '{arm}' vs '{study.control_label_}' changes {outcome_value} churn "
                f"(HR {math.exp(b):.2f}, p = {p:.3g}), which it cannot cause: residual confounding is likely; "
                "treat the main estimate with caution."
            )
            caveats.append(msg)
            warnings.warn(msg, NegativeControlWarning, stacklevel=2)
    return NegativeControlResult(
        pd.DataFrame(rows),
        study._meta(method=f"weighted Cox ({weighting}), robust SE", outcome=outcome_value),
        warnings=caveats,
    )


class PlaceboResult(Result):
    """Placebo-treatment check: arm, estimand, horizon, observed, placebo_mean, placebo_sd, p_value."""

    title = "Placebo treatment (permuted arms)"
    key = "estimand"


def placebo_treatment(
    study,
    *,
    weighting: str | None = None,
    n_permutations: int = 50,
    seed: int = 0,
    horizon: float | None = None,
) -> PlaceboResult:
    """Re-run the estimator with the arm labels randomly permuted: the effects should vanish.

    Within each arm-vs-control population the labels are shuffled (arm sizes kept), the propensity
    model is refitted on the placebo labels (for weighted estimates) and the survival difference at
    ``horizon`` and the RMST difference are re-estimated. A placebo mean far from 0 points to a
    problem in the pipeline (a "treatment" effect produced by the estimator itself); ``p_value`` is
    the share of placebo estimates at least as large in absolute value as the observed one (a
    permutation test of the sharp null, exact for randomised designs).

    References
    ----------
    Sharma, A. & Kiciman, E. (2020). DoWhy: an end-to-end library for causal inference (placebo
    treatment refuter). arXiv:2011.04216.
    """
    weighting = weighting or ("none" if study.design == "randomised" else "ipw")
    if (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, (int, np.integer))
        or n_permutations < 2
    ):
        raise ParameterError(
            f"`n_permutations` must be a whole number >= 2, got {n_permutations!r}."
        )
    horizon = float(horizon if horizon is not None else study.horizons[len(study.horizons) // 2])
    rng = np.random.default_rng(seed)
    rows = []
    if weighting != "none":
        study.propensity()
    for arm in study.arms_:
        sub = study._pair(arm)
        d, e, t = study._arrays(sub, arm)
        if weighting != "none":
            X, beta = study._ps_cache["fits"][arm][3], study._ps_cache["fits"][arm][2]
            if beta is None:  # gradient boosting: permutations refit the flexible logistic design
                beta = np.zeros(X.shape[1])
        else:
            X, beta = np.ones((len(t), 1)), np.zeros(1)

        observed = _placebo_estimate(X, t, d, e, beta, weighting, horizon, study.tau)
        plac = np.array(
            [
                _placebo_estimate(
                    X, rng.permutation(t), d, e, np.zeros_like(beta), weighting, horizon, study.tau
                )
                for _ in range(n_permutations)
            ]
        )
        for k, (estimand, h) in enumerate(
            (("survival_difference", horizon), ("rmst_difference", study.tau))
        ):
            rows.append(
                {
                    "arm": arm,
                    "estimand": estimand,
                    "horizon": h,
                    "observed": observed[k],
                    "placebo_mean": plac[:, k].mean(),
                    "placebo_sd": plac[:, k].std(ddof=1),
                    "p_value": (1 + np.sum(np.abs(plac[:, k]) >= abs(observed[k])))
                    / (n_permutations + 1),
                    "method": weighting,
                }
            )
    return PlaceboResult(
        pd.DataFrame(rows),
        study._meta(
            method=f"placebo treatment, {weighting} weights",
            n_permutations=n_permutations,
            seed=seed,
        ),
    )


def _placebo_estimate(X, labels, d, e, start, weighting, horizon, tau) -> np.ndarray:
    """Survival difference at ``horizon`` and RMST difference for the given labels (point estimates)."""
    from .estimators import IPWStatistic
    from .propensity import fit_logistic_irls

    b = fit_logistic_irls(X, labels, start=start) if weighting != "none" else start
    stat = IPWStatistic(
        X,
        labels,
        d,
        e,
        weighting=weighting,
        trim=None,
        horizons=[horizon],
        tau=tau,
        grid=[0.0],
        beta=b,
        with_hr=False,
        refit=False,
    )
    v = stat(None)
    return np.array([v[0] - v[1], v[2] - v[3]])
