"""The BG/BB model (Fader, Hardie & Shang 2010) for discrete purchase opportunities.

Each period (an event, a mailing, a season) a customer can buy once: while alive she buys with
probability ``p ~ Beta(alpha, beta)``; at the start of every period after the first she may drop out
for good with probability ``theta ~ Beta(gamma, delta)``. With ``x`` purchases in ``n`` opportunities,
the last at opportunity ``t_x`` (``t_x = 0`` without purchases)::

    L = B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n)/B(gamma, delta)
        + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta) * B(gamma+1, delta+t_x+i)/B(gamma, delta)

(paper eq. 5). The gradient is by central differences; data are collapsed to their (x, t_x, n)
patterns, of which there are few.

References
----------
Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. *Marketing Science*, 29(6), 1086-1108.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..exceptions import DataValidationError
from ._mle import PurchaseModel, PurchaseModelResult, fit_model

__all__ = ["BGBB", "fit_bgbb"]

bl = special.betaln


def _terms(theta, x, tx, n):
    al, be, ga, de = theta
    base = bl(al, be)
    gbase = bl(ga, de)
    head = bl(al + x, be + n - x) - base + bl(ga, de + n) - gbase
    m = int(np.max(n - tx)) if np.size(n) else 0
    i = np.arange(max(m, 1))[:, None]
    tail = bl(al + x, be + tx - x + i) - base + bl(ga + 1, de + tx + i) - gbase
    tail = np.where(i < (n - tx), tail, -np.inf)
    return head, special.logsumexp(tail, axis=0)


class BGBB(PurchaseModel):
    name = "BG/BB"
    params = ("alpha", "beta", "gamma", "delta")
    reference = "Fader, Hardie & Shang (2010), Marketing Science 29(6), 1086-1108"
    collapse = True

    @staticmethod
    def loglik(theta, x, tx, n):
        head, tail = _terms(theta, x, tx, n)
        return np.logaddexp(head, tail)

    @staticmethod
    def start(x, tx, n):
        return np.array([1.0, 1.0, 1.0, 1.0])

    @staticmethod
    def p_alive(theta, x, tx, n):
        """P(alive at opportunity n + 1 | x, t_x, n) (paper eq. 11)."""
        al, be, ga, de = theta
        head, tail = _terms(theta, x, tx, n)
        alive = bl(al + x, be + n - x) - bl(al, be) + bl(ga, de + n + 1) - bl(ga, de)
        return np.exp(alive - np.logaddexp(head, tail))

    @staticmethod
    def expected_purchases(theta, t):
        """``E[X(t)]``: expected purchases in the first ``t`` opportunities (paper eq. 8)."""
        al, be, ga, de = theta
        t = np.asarray(t, float)
        return (
            al
            / (al + be)
            * de
            / (ga - 1)
            * (
                1
                - np.exp(
                    special.gammaln(ga + de)
                    - special.gammaln(ga + de + t)
                    + special.gammaln(1 + de + t)
                    - special.gammaln(1 + de)
                )
            )
        )

    @staticmethod
    def conditional_expected_purchases(theta, t, x, tx, n):
        """Expected purchases in the next ``t`` opportunities given ``(x, t_x, n)`` (paper eq. 13)."""
        al, be, ga, de = theta
        head, tail = _terms(theta, x, tx, n)
        ll = np.logaddexp(head, tail)
        gl = special.gammaln
        lead = bl(al + x + 1, be + n - x) - bl(al, be) + gl(ga + de) - gl(1 + de)
        bracket = np.exp(gl(1 + de + n) - gl(ga + de + n)) - np.exp(
            gl(1 + de + n + t) - gl(ga + de + n + t)
        )
        return np.exp(lead - ll) * de / (ga - 1) * bracket


def fit_bgbb(
    frequency, recency, n_periods, *, alpha: float = 0.05, start=None
) -> PurchaseModelResult:
    """Fit the BG/BB model to discrete-opportunity histories.

    Parameters
    ----------
    frequency, recency, n_periods : array-like of int
        ``x`` (purchases), ``t_x`` (opportunity of the last purchase, 0 if none) and ``n``
        (opportunities) per customer; ``0 <= x <= t_x <= n`` and ``t_x >= 1`` when ``x >= 1``.
    alpha : float

    Raises
    ------
    DataValidationError
        Values that are not whole numbers or that break ``x <= t_x <= n``.

    References
    ----------
    Fader, Hardie & Shang (2010), Marketing Science 29(6), 1086-1108.
    """
    x, tx, n = (np.asarray(v, float) for v in (frequency, recency, n_periods))
    for name, v in (("frequency", x), ("recency", tx), ("n_periods", n)):
        if not np.all(np.isfinite(v)) or np.any(v < 0) or np.any(v != np.round(v)):
            raise DataValidationError(
                f"`{name}` must hold non-negative whole numbers of opportunities, got e.g. "
                f"{v[~(np.isfinite(v) & (v >= 0) & (v == np.round(v)))][:3].tolist()}.",
                column=name,
                rule="whole numbers",
            )
    bad = (x > tx) | (tx > n) | ((x > 0) & (tx < 1)) | ((x == 0) & (tx != 0))
    if bad.any():
        raise DataValidationError(
            f"{int(bad.sum()):,} customer(s) break 0 <= frequency <= recency <= n_periods (first positions: "
            f"{np.flatnonzero(bad)[:5].tolist()}); recency is the opportunity of the last purchase (0 if none).",
            column="recency",
            rule="x <= t_x <= n",
            n_rows=int(bad.sum()),
        )
    return fit_model(
        BGBB, (x, tx, n), alpha=alpha, start=start, meta={"time_unit": "opportunities"}
    )
