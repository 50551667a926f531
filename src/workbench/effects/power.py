"""Planning a retention experiment: sample size and power.

* Log-rank (Schoenfeld 1983): events needed ``d = (z_{1-a/2} + z_{power})^2 / (p (1 - p) log(HR)^2)``
  with allocation ``p``; customers needed ``N = d / P(churn observed)``, where under exponential
  churn (rate from the baseline retention at the horizon) with uniform accrual over ``accrual``
  months and ``follow_up`` further months ``P = 1 - (exp(-l f) - exp(-l (a + f))) / (l a)``
  (``1 - exp(-l f)`` without accrual), averaged over the arms.
* Difference in retention proportions at the horizon (everyone followed to the horizon): the normal
  approximation of R's ``power.prop.test`` (``strict = FALSE``):
  ``n per arm = (z_{1-a/2} sqrt(2 pbar qbar) + z_{power} sqrt(p1 q1 + p0 q0))^2 / (p1 - p0)^2``.

References
----------
Schoenfeld, D. A. (1983). Sample-size formula for the proportional-hazards regression model.
Biometrics 39, 499-503.
Fleiss, J. L., Levin, B. & Paik, M. C. (2003). Statistical Methods for Rates and Proportions, 3rd ed.
Wiley (ch. 4).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ParameterError
from ..results import Result


class PowerResult(Result):
    """Sample size / power: method, hazard_ratio, retention_control, retention_arm, events, n_per_arm,
    n_total, power."""

    title = "Sample size for a retention experiment"
    key = "method"


def _prob(name, v, lo=0.0, hi=1.0):
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not lo < v < hi:
        raise ParameterError(f"`{name}` must be a number in ({lo}, {hi}), got {v!r}.")
    return float(v)


def _event_prob(rate: float, accrual: float, follow_up: float) -> float:
    if accrual <= 0:
        return 1 - math.exp(-rate * follow_up)
    return 1 - (math.exp(-rate * follow_up) - math.exp(-rate * (accrual + follow_up))) / (
        rate * accrual
    )


def sample_size(
    *,
    baseline_retention: float,
    hazard_ratio: float | None = None,
    treated_retention: float | None = None,
    horizon: float = 12,
    accrual: float = 0.0,
    follow_up: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    allocation: float = 0.5,
) -> PowerResult:
    """Customers needed to detect an effect on retention with the log-rank test and with proportions.

    Parameters
    ----------
    baseline_retention : float
        Retention (survival) of the control arm at ``horizon``.
    hazard_ratio, treated_retention : float
        The effect: give one (they convert under exponential churn).
    horizon : float
        Months at which retention is compared.
    accrual, follow_up : float
        Months of uniform enrolment and of further follow-up after enrolment ends (default
        ``follow_up = horizon``).
    alpha, power, allocation : float
        Two-sided level, power, share allocated to the arm.

    Examples
    --------
    >>> res = sample_size(baseline_retention=0.75, hazard_ratio=0.8, horizon=12)
    >>> int(res.summary.loc[0, "events"])
    631
    """
    s0 = _prob("baseline_retention", baseline_retention)
    _prob("alpha", alpha)
    _prob("power", power)
    p = _prob("allocation", allocation)
    if (hazard_ratio is None) == (treated_retention is None):
        raise ParameterError("give exactly one of `hazard_ratio` and `treated_retention`.")
    if hazard_ratio is not None:
        if not isinstance(hazard_ratio, (int, float)) or hazard_ratio <= 0 or hazard_ratio == 1:
            raise ParameterError(
                f"`hazard_ratio` must be positive and not 1, got {hazard_ratio!r}."
            )
        s1 = s0**hazard_ratio
    else:
        s1 = _prob("treated_retention", treated_retention)
        if s1 == s0:
            raise ParameterError(
                "`treated_retention` equals `baseline_retention`: no effect to detect."
            )
        hazard_ratio = math.log(s1) / math.log(s0)
    if not horizon > 0 or accrual < 0:
        raise ParameterError(
            f"`horizon` must be > 0 and `accrual` >= 0, got {horizon!r}, {accrual!r}."
        )
    follow_up = float(horizon if follow_up is None else follow_up)
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    d = (za + zb) ** 2 / (p * (1 - p) * math.log(hazard_ratio) ** 2)
    lam0 = -math.log(s0) / horizon
    lam1 = lam0 * hazard_ratio
    pev = p * _event_prob(lam1, accrual, follow_up) + (1 - p) * _event_prob(
        lam0, accrual, follow_up
    )
    n_lr = d / pev
    pbar = (s0 + s1) / 2
    n_prop = (
        za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(s1 * (1 - s1) + s0 * (1 - s0))
    ) ** 2 / (s1 - s0) ** 2
    rows = [
        {
            "method": "log-rank (Schoenfeld)",
            "hazard_ratio": hazard_ratio,
            "retention_control": s0,
            "retention_arm": s1,
            "events": math.ceil(d),
            "event_probability": pev,
            "n_per_arm": math.ceil(n_lr * p) if p == 0.5 else np.nan,
            "n_total": math.ceil(n_lr),
            "power": power,
        },
        {
            "method": "difference in retention proportions",
            "hazard_ratio": hazard_ratio,
            "retention_control": s0,
            "retention_arm": s1,
            "events": np.nan,
            "event_probability": np.nan,
            "n_per_arm": math.ceil(n_prop),
            "n_total": 2 * math.ceil(n_prop),
            "power": power,
        },
    ]
    meta = {
        "alpha": alpha,
        "horizon": horizon,
        "accrual": accrual,
        "follow_up": follow_up,
        "allocation": p,
        "method": "Schoenfeld (1983); normal approximation for two proportions (power.prop.test)",
        "caveat": "the proportions formula assumes every customer is followed to the horizon"
        + ("; it uses equal allocation" if p != 0.5 else ""),
    }
    return PowerResult(pd.DataFrame(rows), meta)


def power_logrank(
    *,
    n_total: int,
    baseline_retention: float,
    hazard_ratio: float,
    horizon: float = 12,
    accrual: float = 0.0,
    follow_up: float | None = None,
    alpha: float = 0.05,
    allocation: float = 0.5,
) -> float:
    """Power of the log-rank test with ``n_total`` customers (the inverse of :func:`sample_size`)."""
    s0 = _prob("baseline_retention", baseline_retention)
    p = _prob("allocation", allocation)
    follow_up = float(horizon if follow_up is None else follow_up)
    lam0 = -math.log(s0) / horizon
    pev = p * _event_prob(lam0 * hazard_ratio, accrual, follow_up) + (1 - p) * _event_prob(
        lam0, accrual, follow_up
    )
    d = n_total * pev
    za = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(math.sqrt(d * p * (1 - p)) * abs(math.log(hazard_ratio)) - za))


def sample_size_from(
    effects,
    *,
    power: float = 0.8,
    alpha: float | None = None,
    accrual: float = 0.0,
    horizon: float | None = None,
) -> PowerResult:
    """Sample size for a new experiment that should detect the effect estimated in ``effects``.

    Takes the control arm's retention at ``horizon`` (default: the middle horizon) and the hazard ratio
    of the first arm from an :class:`~workbench.effects.EffectResult` (the unadjusted or weighted
    estimate, whichever ``effects`` holds) and calls :func:`sample_size`.
    """
    s = effects.summary
    meth = effects.meta.get("method")
    sub = s[s["method"] == meth] if (s["method"] == meth).any() else s
    hs = sorted(sub.loc[sub["estimand"] == "survival_control", "horizon"].unique())
    if not hs:
        raise ParameterError(
            "`effects` holds no control-arm survival: pass an EffectResult from study.estimate()."
        )
    h = float(horizon if horizon is not None else hs[len(hs) // 2])
    s0 = float(
        sub[(sub["estimand"] == "survival_control") & (sub["horizon"] == h)]["estimate"].iloc[0]
    )
    hr = sub.loc[sub["estimand"] == "hazard_ratio", "estimate"]
    if not len(hr) or not np.isfinite(hr.iloc[0]) or hr.iloc[0] == 1:
        raise ParameterError("`effects` holds no usable hazard ratio to plan for.")
    res = sample_size(
        baseline_retention=s0,
        hazard_ratio=float(hr.iloc[0]),
        horizon=h,
        accrual=accrual,
        alpha=effects.meta.get("alpha", 0.05) if alpha is None else alpha,
        power=power,
    )
    from .results import derived_meta

    planned = derived_meta(effects, method=res.meta["method"])
    planned.update({k: v for k, v in res.meta.items() if k != "method"})  # the plan's alpha
    planned["planned_from"] = f"{meth} estimate of arm {s['arm'].iloc[0]!r}"
    res.meta = planned
    return res
