"""Fine-Gray regression of the cumulative incidence of one churn cause (subdistribution hazards),
as R ``cmprsk::crr``: the weighted partial likelihood with inverse-probability-of-censoring weights.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from ..checks import check_alpha as _check_alpha
from ..columns import fingerprint_of
from ..exceptions import (
    ConvergenceWarning,
    ModelError,
    ParameterError,
    SeparationWarning,
    SmallSampleWarning,
)
from ..results import Result
from ._design import (
    MIN_EVENTS_PER_PARAMETER,
    _build_design,
    _drop_degenerate,
    _single_thread,
    _warn,
    hazard_ratio_table,
)
from ._riskset import _rowsum as _group_sum
from .competing import _cause_code, _competing_input

__all__ = ["FineGrayResult", "fine_gray"]


# ================================================================================================
# Fine-Gray regression (cmprsk::crr, Fortran routines crrfsv / crrvv)
# ================================================================================================
class _FGData:
    """Sorted data and the pieces of the IPCW risk sets that do not depend on beta."""

    def __init__(self, time, status, X):
        order = np.argsort(time, kind="stable")
        self.t = time[order]
        self.st = status[order]  # 0 censored, 1 cause of interest, 2 other cause
        self.X = X[order]
        self.order = order
        n = len(self.t)
        ut, inv = np.unique(self.t, return_inverse=True)
        self.ut, self.inv = ut, inv
        counts = np.bincount(inv, minlength=len(ut))
        self.Y = (n - np.r_[0, np.cumsum(counts)[:-1]]).astype(float)  # at risk at each unique time
        self.nc = np.bincount(inv, weights=(self.st == 0).astype(float), minlength=len(ut))
        G_after = np.cumprod(1 - self.nc / self.Y)
        self.G_left = np.r_[1.0, G_after[:-1]]  # censoring KM just before each unique time
        self.d = np.bincount(inv, weights=(self.st == 1).astype(float), minlength=len(ut))
        self.fail_u = np.flatnonzero(self.d > 0)  # unique-time indices of cause-1 failures
        self.comp = self.st == 2
        self.Gi = self.G_left[inv]  # G(T_i-) per row


def _fg_sums(D: _FGData, beta: np.ndarray):
    """Risk-set sums S0, S1 at each cause-1 failure time and per-row pieces."""
    r = np.exp(D.X @ beta)
    p = beta.size
    U = len(D.ut)
    # full-weight part: rows with T >= t_j  (reverse cumulative over unique times)
    r0 = np.bincount(D.inv, weights=r, minlength=U)
    r1 = _group_sum(r[:, None] * D.X, D.inv, U)
    R0 = np.cumsum(r0[::-1])[::-1]
    R1 = np.cumsum(r1[::-1], axis=0)[::-1]
    # IPCW part: other-cause failures with T_a < t_j, weight G(t_j-)/G(T_a-)
    c = np.where(D.comp, r / D.Gi, 0.0)
    c0 = np.bincount(D.inv, weights=c, minlength=U)
    c1 = _group_sum(c[:, None] * D.X, D.inv, U)
    P0 = np.r_[0.0, np.cumsum(c0)[:-1]]  # strictly before each unique time
    P1 = np.vstack([np.zeros((1, p)), np.cumsum(c1, axis=0)[:-1]])
    j = D.fail_u
    G = D.G_left[j]
    S0 = R0[j] + G * P0[j]
    S1 = R1[j] + G[:, None] * P1[j]
    return r, c, S0, S1, P0, P1


def _fg_objective(D: _FGData, beta: np.ndarray):
    """Negative log pseudo-likelihood, its gradient and Hessian (crrfsv)."""
    r, c, S0, S1, _, _ = _fg_sums(D, beta)
    j = D.fail_u
    d = D.d[j]
    ev = D.st == 1
    xbar = S1 / S0[:, None]
    nll = -float((D.X[ev] @ beta).sum()) + float(d @ np.log(S0))
    grad = -D.X[ev].sum(axis=0) + d @ xbar
    # S2 part via per-row cumulative weights
    U = len(D.ut)
    a = np.zeros(U)
    a[j] = d / S0
    A0 = np.cumsum(a)  # sum over failure times t_j <= t
    b = np.zeros(U)
    b[j] = d * D.G_left[j] / S0
    B0 = np.cumsum(b[::-1])[::-1]
    B0_after = np.r_[B0[1:], 0.0]  # failure times strictly after
    wrow = r * A0[D.inv] + c * B0_after[D.inv]
    H = (D.X * wrow[:, None]).T @ D.X - (xbar * d[:, None]).T @ xbar
    return nll, grad, H


def _fg_variance(D: _FGData, beta: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Sandwich variance of crr: ``H^-1 (sum (eta_i + psi_i)(eta_i + psi_i)') H^-1`` (crrvv)."""
    r, c, S0, S1, P0, P1 = _fg_sums(D, beta)
    p = beta.size
    U = len(D.ut)
    j = D.fail_u
    d = D.d[j]
    G = D.G_left[j]
    xbar = S1 / S0[:, None]
    # eta: dN part
    xbar_u = np.full((U, p), np.nan)
    xbar_u[j] = xbar
    eta = np.zeros((len(D.t), p))
    ev = D.st == 1
    eta[ev] = D.X[ev] - xbar_u[D.inv[ev]]
    # eta: d Lambda part
    a0 = np.zeros(U)
    a1 = np.zeros((U, p))
    a0[j] = d / S0
    a1[j] = (d / S0)[:, None] * xbar
    A0 = np.cumsum(a0)[D.inv]
    A1 = np.cumsum(a1, axis=0)[D.inv]
    b0 = np.zeros(U)
    b1 = np.zeros((U, p))
    b0[j] = d * G / S0
    b1[j] = (d * G / S0)[:, None] * xbar
    B0 = np.cumsum(b0[::-1])[::-1]
    B1 = np.cumsum(b1[::-1], axis=0)[::-1]
    B0a = np.r_[B0[1:], 0.0][D.inv]
    B1a = np.vstack([B1[1:], np.zeros((1, p))])[D.inv]
    eta -= r[:, None] * (D.X * A0[:, None] - A1)
    eta -= c[:, None] * (D.X * B0a[:, None] - B1a)
    # psi: censoring martingale part; q(u) = P1(u) Q0(u) - P0(u) Q1(u) with Q over t_j >= u
    Q0 = B0  # sum over failure times t_j >= u of d_j G_j / S0_j
    Q1 = B1
    q = P1 * Q0[:, None] - P0[:, None] * Q1  # U x p
    inc = np.where(D.nc[:, None] > 0, -D.nc[:, None] * q / (D.Y**2)[:, None], 0.0)
    cum = np.cumsum(inc, axis=0)
    psi = cum[D.inv]
    cens = D.st == 0
    psi[cens] += q[D.inv[cens]] / D.Y[D.inv[cens], None]
    tot = eta + psi
    V2 = tot.T @ tot
    Hinv = linalg.inv(H)
    return Hinv @ V2 @ Hinv.T


class FineGrayResult(Result):
    """Fine-Gray subdistribution-hazard model of one churn cause.

    ``summary``: cause, term, covariate, estimate (log subdistribution hazard ratio), se,
    ci_lower, ci_upper (log scale, like ``estimate``), hazard_ratio (the subdistribution hazard
    ratio) with hr_ci_lower, hr_ci_upper, statistic (z), p_value.
    """

    title = "Fine-Gray subdistribution hazards"

    def plot(self, ax=None, **kwargs):
        """Forest plot of the subdistribution hazard ratios."""
        from ..plotting.cox import plot_forest

        return plot_forest(self, ax=ax, label="Subdistribution hazard ratio", **kwargs)


@_single_thread
def fine_gray(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    cause_col: str | None = None,
    cause: Any,
    covariates: Sequence[str],
    reference: dict | None = None,
    alpha: float = 0.05,
    max_iter: int = 50,
    entry_col: str | None = None,
) -> FineGrayResult:
    """Fine-Gray regression of the cumulative incidence of one churn cause.

    Models the subdistribution hazard of ``cause``: customers who left for another cause stay in the
    risk set with inverse-probability-of-censoring weights ``G(t-) / G(T_i-)``. A subdistribution
    hazard ratio above 1 means a higher cumulative incidence of that cause.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col, cause_col : str, optional
        As in :func:`cumulative_incidence` (defaults from ``data.spec``).
    cause : value of ``cause_col``
        The cause of interest; the other causes compete.
    covariates, reference
        As in :func:`workbench.survival.cox.fit_cox` (categoricals dummy-coded).
    alpha : float
        ``1 - alpha`` Wald intervals.
    max_iter : int
        Newton-Raphson iterations.
    entry_col : str, optional
        Refused with :class:`~workbench.exceptions.MethodNotAvailableError`: Fine-Gray with delayed
        entry needs truncation weights (Geskus 2011) that ``cmprsk::crr`` does not implement, so
        no cmprsk-equivalent reference exists.

    Returns
    -------
    FineGrayResult

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=2_000, seed=1)
    >>> fg = fine_gray(ds, cause="competitive", covariates=["contract"])
    >>> list(fg.summary["term"])
    ['contract[one_year]', 'contract[two_year]']

    Notes
    -----
    Estimates, the pseudo-likelihood and the sandwich variance (which accounts for the estimated
    censoring distribution) are those of R ``cmprsk::crr`` with one censoring group; ties are
    handled as there (Breslow-type).

    References
    ----------
    Fine, J. P. & Gray, R. J. (1999). A proportional hazards model for the subdistribution of a
    competing risk. JASA 94(446), 496-509.
    """
    if entry_col is not None:
        from ..exceptions import MethodNotAvailableError

        raise MethodNotAvailableError(
            "fine_gray: delayed entry (`entry_col`) is not supported: Fine-Gray regression with "
            "left truncation needs censoring-and-truncation weights (Geskus 2011) that R "
            "cmprsk::crr, the reference this function reproduces, does not implement. Use "
            "cumulative_incidence(..., entry_col=) for the curves and a cause-specific Cox model "
            "(fit_cox with entry_col= and the cause as event) for covariate effects."
        )
    alpha = _check_alpha(alpha)
    if isinstance(covariates, str):
        covariates = [covariates]
    if not isinstance(covariates, Sequence) or len(covariates) == 0:
        raise ParameterError(
            f"`covariates` must be a non-empty list of column names, got {covariates!r}."
        )
    covariates = list(dict.fromkeys(covariates))
    messages: list[str] = []
    exclusions: list[dict] = []
    frame, time, code, info = _competing_input(
        data,
        func="fine_gray",
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        extra_cols=covariates,
        messages=messages,
        exclusions=exclusions,
    )
    labels = info["labels"]
    k = _cause_code(labels, cause, info["columns"]["cause_col"])
    status = np.where(code == k, 1, np.where(code > 0, 2, 0))
    design = _build_design(frame, covariates, reference)
    design = _drop_degenerate(design, None, messages, model="Fine-Gray model")
    if not design.terms:
        raise ModelError(f"no estimable term left among covariates {covariates}; see the warnings.")
    n_events = int((status == 1).sum())
    p = len(design.terms)
    if n_events / p < MIN_EVENTS_PER_PARAMETER:
        _warn(
            messages,
            f"Only {n_events} events of cause {cause!r} for {p} model terms: estimates may be biased.",
            SmallSampleWarning,
        )
    D = _FGData(time, status, design.X)
    beta = np.zeros(p)
    nll, grad, H = _fg_objective(D, beta)
    nll0 = nll
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 (reported below)
        try:
            step = -linalg.solve(H, grad, assume_a="sym")
        except (linalg.LinAlgError, ValueError):
            step = -linalg.lstsq(H, grad)[0]
        new = beta + step
        nll_new, g_new, H_new = _fg_objective(D, new)
        halvings = 0
        while (
            not math.isfinite(nll_new) or nll_new > nll + 1e-4 * float(step @ grad)
        ) and halvings < 30:
            step /= 2
            new = beta + step
            nll_new, g_new, H_new = _fg_objective(D, new)
            halvings += 1
        beta, nll, grad, H = new, nll_new, g_new, H_new
        if np.max(np.abs(grad) * np.maximum(np.abs(beta), 1)) < max(abs(nll), 1) * 1e-10:
            converged = True
            break
    if not converged:
        _warn(
            messages,
            f"The Fine-Gray fit did not converge in {max_iter} Newton steps; estimates are not reliable "
            "(separation or a covariate with extreme values?).",
            ConvergenceWarning,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            var = _fg_variance(D, beta, H)
            newton = np.abs(linalg.solve(H, grad, assume_a="sym"))
    except (linalg.LinAlgError, ValueError) as exc:
        raise ModelError(
            "the Fine-Gray information matrix is singular: a covariate is collinear or separates the "
            f"churners of cause {cause!r}; remove it or merge its levels."
        ) from exc
    # monotone likelihood (as R coxph): one more Newton step would still move the coefficient
    eps = 1e-9
    for j in np.flatnonzero((newton > eps) & (newton > math.sqrt(eps) * np.abs(beta)) & converged):
        _warn(
            messages,
            f"Monotone likelihood for {design.terms[j]!r} in the Fine-Gray model of {cause!r}: its coefficient "
            f"({beta[j]:.3g}) is heading to +/- infinity (this cause occurs only, or never, in one group). "
            "Its ratio, SE and interval are not usable; merge levels or drop the covariate.",
            SeparationWarning,
        )
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(var))
    lab = labels[k]
    summary = hazard_ratio_table(design.terms, design.term_covariate, beta, se, alpha)
    summary.insert(0, "cause", lab)
    meta = {
        "n": int(len(frame)),
        "events": n_events,
        "competing_events": int((status == 2).sum()),
        "alpha": alpha,
        "cause": lab,
        "method": "Fine-Gray subdistribution hazards (R cmprsk::crr)",
        "loglik": -nll,
        "loglik_null": -nll0,
        "converged": converged,
        "n_iter": it,
        "reference_levels": {c: v["reference"] for c, v in design.levels.items()},
        "dropped_terms": design.dropped,
        "exclusions": exclusions,
        **info["columns"],
    }
    meta["fingerprint"] = fingerprint_of(data, frame, [*info["columns"].values(), *covariates])
    res = FineGrayResult(
        summary, meta, warnings=messages, title=f"Fine-Gray subdistribution hazards: {lab}"
    )
    res.params_ = pd.Series(beta, index=design.terms)
    res.variance_ = pd.DataFrame(var, index=design.terms, columns=design.terms)
    return res
