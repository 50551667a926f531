"""The shifted-beta-geometric (sBG) model for contractual cohorts.

Each customer renews at the end of every period with her own probability ``1 - theta``; the churn
probabilities ``theta`` vary across customers as ``Beta(alpha, beta)``. So

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``  (churn in period ``t = 1, 2, ...``)
* ``S(t) = B(alpha, beta + t) / B(alpha, beta)``               (still a customer after ``t`` periods)
* retention rate ``r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``, which rises
  with ``t`` because the riskiest customers leave first.

The model is fitted by maximum likelihood, either from plain survivor counts of one cohort
(:func:`fit_sbg`, which also works on published tables) or from customer-level renewal counts with
censoring (:func:`fit_sbg_customers`). Standard errors come from the observed information of
``(log alpha, log beta)``; confidence intervals of derived quantities (projections, DERL) use the
delta method on that scale.

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of Interactive
Marketing*, 21(1), 76-90.
Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the perils
of ignoring heterogeneity. *Marketing Science*, 29(1), 85-93.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..columns import check_alpha as _check_alpha
from ..columns import data_fingerprint, months_per_unit, resolve
from ..exceptions import (
    ConvergenceWarning,
    DataValidationError,
    ModelError,
    ParameterError,
    SmallSampleWarning,
)
from ..results import Result, standard_meta

#: cohorts smaller than this fit, but with a SmallSampleWarning
MIN_COHORT_SIZE = 50


def _log_beta(a, b):
    return special.betaln(a, b)


def sbg_survival(t, alpha: float, beta: float) -> np.ndarray:
    """``S(t) = B(alpha, beta + t) / B(alpha, beta)``: share of a cohort still active after ``t`` periods."""
    t = np.asarray(t, dtype=float)
    return np.exp(_log_beta(alpha, beta + t) - _log_beta(alpha, beta))


def sbg_churn_probability(t, alpha: float, beta: float) -> np.ndarray:
    """``P(T = t)`` for ``t = 1, 2, ...``: probability of churning in period ``t``."""
    t = np.asarray(t, dtype=float)
    return np.exp(_log_beta(alpha + 1, beta + t - 1) - _log_beta(alpha, beta))


def sbg_retention_rate(t, alpha: float, beta: float) -> np.ndarray:
    """Retention rate in period ``t`` (``t >= 1``): ``(beta + t - 1) / (alpha + beta + t - 1)``."""
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def sbg_derl(alpha: float, beta: float, discount_rate: float, renewals: int = 0) -> float:
    """Discounted expected residual lifetime (Fader & Hardie 2010, eq. 6).

    For a customer who has made ``renewals`` (= n - 1) renewals and is about to decide on the next,
    ``DERL = sum_{t >= n} S(t | T > n - 1) / (1 + d)^(t - n)``
    ``     = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))``.
    Multiply by the margin per period to get the expected residual value. ``discount_rate`` is per
    period (the same period as the renewals).
    """
    _check_discount(discount_rate, "discount_rate")
    n = float(renewals) + 1.0
    lead = (beta + n - 1) / (alpha + beta + n - 1)
    return float(
        lead * special.hyp2f1(1.0, beta + n, alpha + beta + n, 1.0 / (1.0 + discount_rate))
    )


def _check_discount(rate, name: str) -> None:
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise ParameterError(f"`{name}` must be a number in (0, 1), got {rate!r}.") from None
    if not 0 < r < 1:
        raise ParameterError(
            f"`{name}` must be in (0, 1) (a rate per period such as 0.10 for 10%), got {rate!r}. "
            "Write 10% as 0.10, not 10."
        )


def check_survivor_counts(survivors, name: str = "survivors") -> np.ndarray:
    """Survivor counts of one cohort: whole numbers, first > 0, never increasing, at least 2 periods."""
    try:
        s = np.asarray(survivors, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataValidationError(
            f"`{name}` must be a sequence of counts, got {survivors!r}.",
            column=name,
            rule="numeric",
        ) from None
    if s.size < 3:
        raise ModelError(
            f"`{name}` has {s.size} value(s) ({s.tolist()}); the sBG model needs the cohort size and at "
            "least 2 later survivor counts to identify alpha and beta. Observe the cohort longer."
        )
    if not np.all(np.isfinite(s)) or np.any(s < 0) or np.any(np.abs(s - np.round(s)) > 1e-9):
        raise DataValidationError(
            f"`{name}` must be non-negative whole numbers, got {s.tolist()}.",
            column=name,
            rule="counts",
        )
    if s[0] <= 0:
        raise DataValidationError(
            f"`{name}`: the cohort size (first value) must be positive, got {s[0]:g}.",
            column=name,
            rule="cohort size",
        )
    up = np.flatnonzero(np.diff(s) > 0)
    if up.size:
        i = int(up[0])
        raise DataValidationError(
            f"`{name}` increase from period {i} to {i + 1} ({s[i]:g} -> {s[i + 1]:g}): survivor counts of a "
            "cohort can only stay or fall. Pass the number still active at each period of ONE cohort "
            "(not the active base, which new joiners refill).",
            column=name,
            rule="non-increasing",
            n_rows=int(up.size),
            examples=up[:5].tolist(),
        )
    return s


class SBGResult(Result):
    """A fitted sBG model: ``alpha_``, ``beta_``, ``log_likelihood_``, covariance of the log parameters.

    ``summary`` has rows ``alpha``, ``beta`` and ``mean_churn`` (``alpha / (alpha + beta)``) with
    ``estimate, se, ci_lower, ci_upper``; ``tables['fit']`` the observed and fitted survivors.
    """

    title = "sBG cohort model"

    def __init__(
        self,
        alpha_,
        beta_,
        log_likelihood_,
        cov_log_,
        observed,
        *,
        alpha=0.05,
        cohort=None,
        meta=None,
        warnings_=None,
    ):
        self.alpha_ = float(alpha_)
        self.beta_ = float(beta_)
        self.log_likelihood_ = float(log_likelihood_)
        self.cov_log_ = np.asarray(cov_log_, dtype=float)
        self.level = alpha
        self.cohort = cohort
        z = stats.norm.ppf(1 - alpha / 2)
        rows = []
        for i, (name, val) in enumerate((("alpha", self.alpha_), ("beta", self.beta_))):
            sd = math.sqrt(max(self.cov_log_[i, i], 0.0))
            rows.append(
                {
                    "term": name,
                    "estimate": val,
                    "se": val * sd,
                    "ci_lower": val * math.exp(-z * sd),
                    "ci_upper": val * math.exp(z * sd),
                }
            )
        m, m_se = self._delta(lambda a, b: a / (a + b))
        rows.append(
            {
                "term": "mean_churn",
                "estimate": m,
                "se": m_se,
                "ci_lower": max(m - z * m_se, 0.0),
                "ci_upper": min(m + z * m_se, 1.0),
            }
        )
        summary = pd.DataFrame(rows)
        if cohort is not None:
            summary.insert(0, "cohort", str(cohort))
        tables = {}
        if observed is not None:
            obs = np.asarray(observed, dtype=float)
            t = np.arange(obs.size)
            tables["fit"] = pd.DataFrame(
                {
                    "period": t,
                    "observed": obs,
                    "fitted": obs[0] * sbg_survival(t, self.alpha_, self.beta_),
                }
            )
        meta = {
            "alpha": alpha,
            "method": "sBG maximum likelihood (Fader & Hardie 2007)",
            "log_likelihood": self.log_likelihood_,
            **(meta or {}),
        }
        super().__init__(summary, meta, tables=tables, warnings=warnings_)

    # -- derived quantities ----------------------------------------------------------------------
    def _delta(self, fun):
        """Value and delta-method SE of ``fun(alpha, beta)`` (gradient on the log scale)."""
        la, lb = math.log(self.alpha_), math.log(self.beta_)
        f0 = fun(self.alpha_, self.beta_)
        h = 1e-5
        g = np.array(
            [
                (fun(math.exp(la + h), self.beta_) - fun(math.exp(la - h), self.beta_)) / (2 * h),
                (fun(self.alpha_, math.exp(lb + h)) - fun(self.alpha_, math.exp(lb - h))) / (2 * h),
            ]
        )
        return float(f0), float(math.sqrt(max(g @ self.cov_log_ @ g, 0.0)))

    def survival(self, t) -> np.ndarray:
        return sbg_survival(t, self.alpha_, self.beta_)

    def retention_rate(self, t) -> np.ndarray:
        return sbg_retention_rate(t, self.alpha_, self.beta_)

    def project(self, periods: int, *, cohort_size: float | None = None) -> pd.DataFrame:
        """Projected survival, survivors and retention rate for ``t = 0 .. periods`` with CIs.

        Columns ``period, survival, ci_lower, ci_upper, survivors, retention_rate``.
        """
        if not isinstance(periods, (int, np.integer)) or periods < 1:
            raise ParameterError(f"`periods` must be a positive whole number, got {periods!r}.")
        z = stats.norm.ppf(1 - self.level / 2)
        size = cohort_size if cohort_size is not None else self.meta.get("cohort_size", 1.0)
        rows = []
        for t in range(periods + 1):
            s, se = self._delta(lambda a, b, t=t: float(sbg_survival(t, a, b)))
            rr = float(sbg_retention_rate(t, self.alpha_, self.beta_)) if t >= 1 else np.nan
            rows.append(
                {
                    "period": t,
                    "survival": s,
                    "ci_lower": max(s - z * se, 0.0),
                    "ci_upper": min(s + z * se, 1.0),
                    "survivors": size * s,
                    "retention_rate": rr,
                }
            )
        return pd.DataFrame(rows)

    def derl(self, discount_rate: float, renewals: int | Sequence[int] = 0) -> pd.DataFrame:
        """DERL (expected discounted number of remaining payments) with delta-method CIs.

        ``discount_rate`` is per period of the model; ``renewals`` the renewals already made.
        """
        _check_discount(discount_rate, "discount_rate")
        z = stats.norm.ppf(1 - self.level / 2)
        rows = []
        for n in np.atleast_1d(renewals):
            n = int(n)
            if n < 0:
                raise ParameterError(f"`renewals` must be >= 0, got {n}.")
            v, se = self._delta(lambda a, b, n=n: sbg_derl(a, b, discount_rate, n))
            rows.append(
                {
                    "renewals": n,
                    "estimate": v,
                    "se": se,
                    "ci_lower": max(v - z * se, 0.0),
                    "ci_upper": v + z * se,
                }
            )
        return pd.DataFrame(rows)

    def plot(self, ax=None, **kwargs):
        from ..plotting.value import plot_sbg

        return plot_sbg(self, ax=ax, **kwargs)


def _neg_ll_counts(logp, lost, s_last, T):
    a, b = np.exp(logp)
    t = np.arange(1, T + 1, dtype=float)
    lp = _log_beta(a + 1, b + t - 1) - _log_beta(a, b)
    ls = _log_beta(a, b + T) - _log_beta(a, b)
    return -(np.sum(lost * lp) + s_last * ls)


def _neg_ll_customers(logp, churn_t, cens_t):
    a, b = np.exp(logp)
    lb = _log_beta(a, b)
    ll = np.sum(_log_beta(a + 1, b + churn_t - 1) - lb) + np.sum(_log_beta(a, b + cens_t) - lb)
    return -ll


def _numerical_hessian(f, x, h=1e-4):
    x = np.asarray(x, dtype=float)
    k = x.size
    H = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei = np.eye(k)[i] * h
            ej = np.eye(k)[j] * h
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h
            )
    return H


def _optimise(fun, warns: list, label: str):
    best = None
    for start in ((0.0, 0.0), (-1.0, 1.5)):
        with np.errstate(all="ignore"):
            res = optimize.minimize(fun, np.array(start), method="BFGS", options={"gtol": 1e-8})
        if best is None or res.fun < best.fun:
            best = res
    if not np.all(np.isfinite(best.x)):
        best.x = np.clip(np.nan_to_num(best.x), -12, 12)
    polish = optimize.minimize(
        fun, best.x, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 600}
    )
    if polish.fun <= best.fun:
        best = polish
    h = 1e-5
    grad = np.array([(fun(best.x + h * e) - fun(best.x - h * e)) / (2 * h) for e in np.eye(2)])
    if (
        not np.all(np.isfinite(grad))
        or np.max(np.abs(grad)) > 1e-2
        or np.any(np.abs(best.x) > 11.5)
    ):
        msg = (
            f"sBG fit of {label} did not converge to an interior maximum (log alpha, log beta = "
            f"{best.x.round(2).tolist()}): the data barely identify alpha and beta (e.g. almost no churn "
            "or a constant retention rate). Treat the estimates with caution."
        )
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        warns.append(msg)
        converged = False
    else:
        converged = True
    H = _numerical_hessian(fun, best.x)
    try:
        cov = np.linalg.inv(H)
        if np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    return best, cov, converged


def fit_sbg(
    survivors: Sequence[float], *, alpha: float = 0.05, cohort: str | None = None
) -> SBGResult:
    """Fit the sBG model by maximum likelihood to the survivor counts of one cohort.

    Parameters
    ----------
    survivors : sequence of int
        ``[n_0, n_1, ..., n_T]``: the cohort size and the number still active after each period
        (e.g. ``[1000, 631, 468, 382, 326, 289, 262, 241]``).
    alpha : float
        Significance level of the confidence intervals.
    cohort : str, optional
        Label stored in the summary.

    Returns
    -------
    SBGResult

    Raises
    ------
    DataValidationError
        Counts that are not whole numbers or that increase.
    ModelError
        Fewer than 2 periods after the start, or no customer churned.

    Notes
    -----
    Log likelihood ``sum_t (n_{t-1} - n_t) log P(T = t) + n_T log S(T)`` (Fader & Hardie 2007, eq. 6).

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing*, 21(1), 76-90.

    Examples
    --------
    >>> r = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> round(r.alpha_, 3), round(r.beta_, 3)
    (0.704, 1.182)
    """
    _check_alpha(alpha)
    s = check_survivor_counts(survivors)
    lost = -np.diff(s)
    if lost.sum() == 0:
        raise ModelError(
            f"survivor counts {s.tolist()} show no churn at all: the sBG model cannot be fitted "
            "(alpha/(alpha+beta) would be 0). Observe the cohort over more periods."
        )
    warns: list[str] = []
    label = f"cohort {cohort!r}" if cohort is not None else "the cohort"
    if s[0] < MIN_COHORT_SIZE:
        msg = (
            f"{label} has only {int(s[0])} customers (< {MIN_COHORT_SIZE}); the sBG estimates and their "
            "CIs rest on very few renewals."
        )
        warnings.warn(msg, SmallSampleWarning, stacklevel=2)
        warns.append(msg)
    T = s.size - 1
    best, cov, converged = _optimise(lambda p: _neg_ll_counts(p, lost, s[-1], T), warns, label)
    a, b = np.exp(best.x)
    return SBGResult(
        a,
        b,
        -best.fun,
        cov,
        s,
        alpha=alpha,
        cohort=cohort,
        warnings_=warns,
        meta=standard_meta(
            alpha=alpha,
            method="sBG maximum likelihood (Fader & Hardie 2007)",
            n=int(s[0]),
            events=int(lost.sum()),
            fingerprint=data_fingerprint(pd.DataFrame({"survivors": s})),
            periods=T,
            cohort_size=float(s[0]),
            converged=converged,
        ),
    )


def fit_sbg_customers(
    data,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    period_length: float = 1.0,
    alpha: float = 0.05,
    cohort: str | None = None,
    tenure_unit: str | None = None,
) -> SBGResult:
    """Fit the sBG model to customer-level renewals with censoring.

    A customer whose tenure (converted to months) lies in ``((t - 1) L, t L]`` and who churned
    contributes ``P(T = t)``; a customer still active contributes ``S(floor(tenure / L))`` (the
    renewals she is known to have made). ``L = period_length`` in months.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col : str
        Default from the Dataset's spec (tenure, event).
    period_length : float
        Length of one contract period in months (e.g. 12 for yearly contracts).
    tenure_unit : str, optional
        Unit of ``duration_col``; default from the spec, else months.
    alpha : float
    cohort : str, optional

    Returns
    -------
    SBGResult

    References
    ----------
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing*, 21(1), 76-90.
    """
    _check_alpha(alpha)
    r = resolve(
        data,
        duration_col=duration_col,
        event_col=event_col,
        covariates=[],
        tenure_unit=tenure_unit,
        func="fit_sbg_customers",
    )
    f = r.frame
    if not period_length > 0:
        raise ParameterError(f"`period_length` must be positive, got {period_length!r}.")
    t = r.duration * months_per_unit(r.unit) / period_length
    e = r.event.astype(bool)
    churn_t = np.maximum(np.ceil(t[e] - 1e-9), 1.0)
    cens_t = np.floor(t[~e] + 1e-9)
    if churn_t.size == 0:
        raise ModelError(
            f"no churn in column '{r.columns['event_col']}': the sBG model cannot be fitted."
        )
    if np.unique(np.r_[churn_t, cens_t + 1]).size < 2:
        raise ModelError(
            "all customers fall in one period: the sBG model needs at least 2 periods. "
            "Use a shorter `period_length`."
        )
    warns: list[str] = []
    label = f"cohort {cohort!r}" if cohort is not None else "the customers"
    if len(f) < MIN_COHORT_SIZE:
        msg = f"{label}: only {len(f)} customers (< {MIN_COHORT_SIZE}); the sBG fit is fragile."
        warnings.warn(msg, SmallSampleWarning, stacklevel=2)
        warns.append(msg)
    best, cov, converged = _optimise(lambda p: _neg_ll_customers(p, churn_t, cens_t), warns, label)
    a, b = np.exp(best.x)
    return SBGResult(
        a,
        b,
        -best.fun,
        cov,
        None,
        alpha=alpha,
        cohort=cohort,
        warnings_=warns,
        meta=standard_meta(
            r,
            alpha=alpha,
            method="sBG maximum likelihood from customer renewals with censoring",
            period_length=period_length,
            periods=int(np.max(np.r_[churn_t, cens_t])),
            cohort_size=float(len(f)),
            converged=converged,
        ),
    )
