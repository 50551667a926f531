"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005 "RFM and CLV"; Colombo & Jiang 1999).

A customer's transaction values are Gamma(p, nu) around her mean ``p / nu``; ``nu ~ Gamma(q, gamma)``
across customers. For a customer with ``x`` repeat transactions of mean value ``m`` the mean has
density ``G(px+q) / (G(px) G(q)) gamma^q m^(px-1) x^(px) / (gamma + x m)^(px+q)``; the gradient is
analytic. The expected mean spend given ``(x, m)`` is a weighted average of the population mean
``p gamma / (q - 1)`` and the customer's own mean ``m``.

The model assumes spend is independent of purchase frequency; :func:`fit_gammagamma` reports their
correlation (Pearson, Fisher-z interval) and warns with :class:`SpendFrequencyDependenceWarning`
when the interval excludes 0 and the correlation exceeds 0.3 in size.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value curves for customer
base analysis. *Journal of Marketing Research*, 42(4), 415-430.
Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://brucehardie.com/notes/025/
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import special, stats

from ..exceptions import ModelError, RowsExcludedWarning, WorkbenchWarning
from ._mle import PurchaseModel, PurchaseModelResult, fit_model

__all__ = ["GammaGamma", "SpendFrequencyDependenceWarning", "fit_gammagamma", "expected_spend"]

gl, dg = special.gammaln, special.digamma
#: |correlation| above which (with an interval excluding 0) the independence caveat is raised
DEPENDENCE_THRESHOLD = 0.3


class SpendFrequencyDependenceWarning(WorkbenchWarning):
    """Spend per transaction is correlated with purchase frequency (Gamma-Gamma assumes independence)."""


class GammaGamma(PurchaseModel):
    name = "Gamma-Gamma"
    params = ("p", "q", "gamma")
    reference = "Fader, Hardie & Lee (2005), JMR 42(4), 415-430"

    @staticmethod
    def loglik(theta, x, m):
        p, q, g = theta
        return (
            gl(p * x + q)
            - gl(p * x)
            - gl(q)
            + q * np.log(g)
            + (p * x - 1) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(g + x * m)
        )

    @staticmethod
    def gradient(theta, x, m):
        p, q, g = theta
        d_p = x * (dg(p * x + q) - dg(p * x) + np.log(m) + np.log(x) - np.log(g + x * m))
        d_q = dg(p * x + q) - dg(q) + np.log(g) - np.log(g + x * m)
        d_g = q / g - (p * x + q) / (g + x * m)
        return np.column_stack([d_p, d_q, d_g])

    @staticmethod
    def start(x, m):
        return np.array([1.0, 1.0, max(float(np.mean(m)), 1e-3)])


def expected_spend(theta, x, m) -> np.ndarray:
    """``E[M | x, m]``: expected mean spend per transaction; population mean where ``x = 0``."""
    p, q, g = theta
    x = np.asarray(x, float)
    m = np.where(x > 0, np.nan_to_num(np.asarray(m, float)), 0.0)
    return (p * (g + x * m)) / (p * x + q - 1)


def fit_gammagamma(summary, *, alpha: float = 0.05, start=None) -> PurchaseModelResult:
    """Fit the Gamma-Gamma spend model to repeat buyers' mean spend.

    Parameters
    ----------
    summary : CustomerSummary or DataFrame
        With ``frequency`` and ``monetary_value`` (mean spend of repeat purchases).
    alpha : float
    start : array-like, optional
        ``(p, q, gamma)``.

    Returns
    -------
    PurchaseModelResult
        ``meta['frequency_spend_correlation']`` with its interval in ``tables['independence']``.

    Raises
    ------
    ModelError
        Fewer than 10 repeat buyers with positive mean spend.

    Warns
    -----
    RowsExcludedWarning
        Repeat buyers whose mean spend is 0 (log of 0): excluded and counted.
    SpendFrequencyDependenceWarning
        See module docstring.

    References
    ----------
    Fader, Hardie & Lee (2005) "RFM and CLV" (CDNOW 1/10 sample: p = 6.25, q = 3.74, gamma = 15.44).
    """
    from .summary import CustomerSummary

    frame = summary.customers if isinstance(summary, CustomerSummary) else summary
    meta_in = summary.meta if isinstance(summary, CustomerSummary) else {}
    for col in ("frequency", "monetary_value"):
        if col not in frame.columns:
            raise ModelError(
                f"the summary lacks column '{col}' (has {list(frame.columns)}); build it with rfm_summary() from a log with amounts."
            )
    x = frame["frequency"].to_numpy(float)
    m = frame["monetary_value"].to_numpy(float)
    rep = x > 0
    zero = rep & ~(m > 0)
    if zero.any():
        msg = f"{int(zero.sum()):,} repeat buyer(s) with mean repeat spend 0 excluded from the Gamma-Gamma fit"
        warnings.warn(msg, RowsExcludedWarning, stacklevel=2)
    use = rep & (m > 0)
    if use.sum() < 10:
        raise ModelError(
            f"the Gamma-Gamma model needs repeat buyers with positive mean spend; found {int(use.sum())} "
            "(need at least 10). Use a longer calibration period."
        )
    meta = {k: meta_in.get(k) for k in ("time_unit", "fingerprint", "dataset") if k in meta_in}
    meta["exclusions"] = list(meta_in.get("exclusions", [])) + [
        {
            "rule": "repeat buyers only",
            "n_rows": int((~rep).sum()),
            "detail": "customers without repeat purchases have no repeat spend",
        }
    ]
    if zero.any():
        meta["exclusions"].append(
            {"rule": "zero mean spend", "n_rows": int(zero.sum()), "detail": "log(0) undefined"}
        )
    res = fit_model(GammaGamma, (x[use], m[use]), alpha=alpha, start=start, meta=meta)
    rho, lo, hi = _correlation(x[use], m[use], res.meta["alpha"])
    res.meta["frequency_spend_correlation"] = rho
    res.tables["independence"] = pd.DataFrame(
        [
            {
                "term": "corr(frequency, mean spend)",
                "estimate": rho,
                "ci_lower": lo,
                "ci_upper": hi,
                "n": int(use.sum()),
            }
        ]
    )
    if abs(rho) > DEPENDENCE_THRESHOLD and (lo > 0 or hi < 0):
        msg = (
            f"frequency and mean spend are correlated (r = {rho:.2f}, interval {lo:.2f} to {hi:.2f}): the "
            "Gamma-Gamma independence assumption fails; expected spend and CLV are biased. Model spend by segment."
        )
        warnings.warn(msg, SpendFrequencyDependenceWarning, stacklevel=2)
        res.warnings.append(msg)
    return res


def _correlation(x, m, alpha):
    rho = float(np.corrcoef(x, m)[0, 1])
    n = x.size
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    h = stats.norm.ppf(1 - alpha / 2) / np.sqrt(max(n - 3, 1))
    return rho, float(np.tanh(z - h)), float(np.tanh(z + h))
