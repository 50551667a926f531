"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007): BG/NBD with a drop-out chance at time 0.

Identical to BG/NBD except that a customer can also become inactive right after her first purchase,
so customers without repeat purchases are not automatically "alive"::

    LL = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x+1) - ln B(a, b)
         + ln[ (alpha+T)^-(r+x) + a/(b+x) (alpha+t_x)^-(r+x) ]

The gradient is analytic.

References
----------
Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison of models
for customer base analysis. *International Journal of Research in Marketing*, 24(3), 201-209.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._mle import PurchaseModel, PurchaseModelResult, fit_model, summary_data

__all__ = ["MBGNBD", "fit_mbgnbd"]

gl, dg = special.gammaln, special.digamma


class MBGNBD(PurchaseModel):
    name = "MBG/NBD"
    params = ("r", "alpha", "a", "b")
    reference = "Batislam, Denizel & Filiztekin (2007), IJRM 24(3), 201-209"

    @staticmethod
    def _parts(theta, x, tx, T):
        r, al, a, b = theta
        A1 = gl(r + x) - gl(r) + r * np.log(al)
        A2 = gl(a + b) + gl(b + x + 1) - gl(b) - gl(a + b + x + 1)
        A3 = -(r + x) * np.log(al + T)
        A4 = np.log(a) - np.log(b + x) - (r + x) * np.log(al + tx)
        return A1, A2, A3, A4

    @staticmethod
    def loglik(theta, x, tx, T):
        A1, A2, A3, A4 = MBGNBD._parts(theta, x, tx, T)
        return A1 + A2 + np.logaddexp(A3, A4)

    @staticmethod
    def gradient(theta, x, tx, T):
        r, al, a, b = theta
        A1, A2, A3, A4 = MBGNBD._parts(theta, x, tx, T)
        w4 = np.exp(A4 - np.logaddexp(A3, A4))
        w3 = 1.0 - w4
        d_r = dg(r + x) - dg(r) + np.log(al) - w3 * np.log(al + T) - w4 * np.log(al + tx)
        d_al = r / al - w3 * (r + x) / (al + T) - w4 * (r + x) / (al + tx)
        d_a = dg(a + b) - dg(a + b + x + 1) + w4 / a
        d_b = dg(a + b) + dg(b + x + 1) - dg(b) - dg(a + b + x + 1) - w4 / (b + x)
        return np.column_stack([d_r, d_al, d_a, d_b])

    @staticmethod
    def start(x, tx, T):
        return np.array([1.0, max(float(np.mean(T)), 1e-3), 1.0, 1.0])

    @staticmethod
    def p_alive(theta, x, tx, T):
        r, al, a, b = theta
        x = np.asarray(x, float)
        log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(al + T) - np.log(al + tx))
        return 1.0 / (1.0 + np.exp(log_ratio))

    @staticmethod
    def expected_purchases(theta, t):
        r, al, a, b = theta
        t = np.asarray(t, float)
        return (
            b
            / (a - 1)
            * (
                1
                - np.exp(r * np.log(al / (al + t))) * special.hyp2f1(r, b + 1, a + b, t / (al + t))
            )
        )

    @staticmethod
    def conditional_expected_purchases(theta, t, x, tx, T):
        r, al, a, b = theta
        x = np.asarray(x, float)
        hyp = special.hyp2f1(r + x, b + x + 1, a + b + x, t / (al + T + t))
        first = (
            (a + b + x) / (a - 1) * (1 - np.exp((r + x) * np.log((al + T) / (al + T + t))) * hyp)
        )
        return first * MBGNBD.p_alive(theta, x, tx, T)


def fit_mbgnbd(summary, *, alpha: float = 0.05, start=None) -> PurchaseModelResult:
    """Fit the MBG/NBD model to a customer summary by maximum likelihood (see :func:`fit_bgnbd`).

    References
    ----------
    Batislam, Denizel & Filiztekin (2007), IJRM 24(3), 201-209.
    """
    data, meta = summary_data(summary)
    return fit_model(MBGNBD, data, alpha=alpha, start=start, meta=meta)
