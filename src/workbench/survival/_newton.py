"""Newton-Raphson of the Cox engine, and Firth's penalty (the one home of both).

:func:`newton` maximises the log partial likelihood of a sorted :class:`~._riskset._Problem`
(optionally minus a ridge penalty, or plus Firth's ``0.5 log det I(beta)``), with some coefficients
optionally held fixed (profile likelihoods), by Newton steps with step halving as R's ``coxfit6``.

Firth's penalty (Heinze & Schemper 2001) is defined for any risk-set structure the engine handles:
Breslow or Efron ties, strata, case weights, delayed entry. ``I(beta) = sum_e m_e V_e`` where each
event step ``e`` (an event block for Breslow, one of a block's Efron steps) has weight ``m_e`` and
``V_e`` is the covariance of ``x`` over its risk set weighted by ``c_je w_j exp(x_j beta)``; so
``d log det I / d beta_r = sum_e m_e E_e[(x - mu_e)' A (x - mu_e) (x_r - mu_er)]`` with
``A = I^{-1}``, computed in ``O(n p^2)`` from the risk-set sums the likelihood already has.

References
----------
Firth, D. (1993). Bias reduction of maximum likelihood estimates. Biometrika 80(1), 27-38.
Heinze, G. and Schemper, M. (2001). A solution to the problem of monotone likelihood in Cox
regression. Biometrics 57, 114-119.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import ModelError
from ._linalg import _solve
from ._riskset import _Eval, _Problem, _step_sums


class SingularStart(ModelError):
    """The information is singular at the starting values (a collinear design)."""


# Firth fits: the largest step (in standard deviations of the column), as R coxphf's ``maxstep``
_FIRTH_MAX_STEP = 5.0


def firth_penalty(prob: _Problem, beta: np.ndarray, ev: _Eval) -> tuple[float, np.ndarray]:
    """``0.5 log det I(beta)`` and its gradient; ``(-inf, nan)`` where ``I`` is not positive
    definite. ``ev`` is ``prob.evaluate(beta, keep=True)``."""
    p = len(beta)
    info = ev.info
    if not np.isfinite(info).all():
        return -np.inf, np.full(p, np.nan)
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0 or not np.isfinite(logdet):
        return -np.inf, np.full(p, np.nan)
    A = np.linalg.inv(info)
    A = 0.5 * (A + A.T)
    X = prob.X
    eta = X @ beta
    s_row = np.einsum("ij,ij->i", X @ A, X)  # x' A x per row
    grad = X.T @ (ev.coef * s_row)  # sum_e m_e E_e[(x'Ax) x]
    for s, part in zip(prob.strata, ev.parts):
        if part is None:
            continue
        lo, hi = s.lo, s.hi
        xbar, shift = part[0], part[6]
        r = np.exp(eta[lo:hi] - shift) * prob.w[lo:hi]
        bx = _step_sums(s, part, xbar)  # per row: sum_e g_e c_je mu_e
        Xs = X[lo:hi]
        grad -= (r * s_row[lo:hi]) @ bx  # sum_e m_e E_e[x'Ax] mu_e
        grad -= 2.0 * Xs.T @ (r * np.einsum("ij,ij->i", Xs, bx @ A))  # sum m_e E_e[x x'] A mu_e
        c = np.einsum("ij,ij->i", xbar @ A, xbar)
        grad += 2.0 * (s.e_wt * c) @ xbar  # sum_e m_e (mu_e' A mu_e) mu_e
    return 0.5 * float(logdet), 0.5 * grad


@dataclass
class NewtonState:
    beta: np.ndarray
    ev: _Eval
    objective: float  # the maximised (penalised) log partial likelihood
    score: np.ndarray  # its gradient
    info: np.ndarray  # the (ridge-penalised) information, Firth: the unpenalised one
    n_iter: int
    converged: bool
    halted: bool  # stopped on a monotone likelihood (coefficients diverging)
    start_objective: float
    start_score: np.ndarray
    start_info: np.ndarray


def evaluate(prob: _Problem, beta: np.ndarray, pen: np.ndarray, firth: bool):
    """``(ev, objective, score, information)`` at ``beta``."""
    ev = prob.evaluate(beta, keep=True)
    obj = ev.loglik - 0.5 * float(pen @ (beta * beta))
    U = ev.score - pen * beta
    Imat = ev.info + np.diag(pen)
    if firth:
        half_logdet, grad = firth_penalty(prob, beta, ev)
        obj += half_logdet
        U = U + grad
    if not (np.isfinite(Imat).all() and np.isfinite(U).all()):
        obj = -np.inf  # exp(x b) under- or overflowed: treated as a worse point
    return ev, obj, U, Imat


def newton(
    prob: _Problem,
    beta: np.ndarray,
    *,
    pen: np.ndarray,
    firth: bool,
    free: np.ndarray,
    tol: float,
    max_iter: int,
    sd: np.ndarray,
    names: list[str],
) -> NewtonState:
    """Maximise the (penalised) log partial likelihood over the coefficients where ``free``.

    Unpenalised / ridge: converged when the relative (or absolute) change of the objective after a
    full step is at most ``tol`` (R's ``coxph.control(eps=)``); a monotone likelihood (steps that
    stay large while the gains vanish) halts the loop. Firth: Newton steps with the unpenalised
    information, at most ``_FIRTH_MAX_STEP`` standard deviations, converged when the full step is
    below ``10 * tol`` in every coefficient (the penalised maximum is finite).
    """
    ev, cur, U, Imat = evaluate(prob, beta, pen, firth)
    start = (cur, U, Imat)
    converged = halted = False
    flat_steps = n_iter = 0
    k = len(beta)
    idx = np.flatnonzero(free)

    def newton_step(U, Imat):
        step = np.zeros(k)
        if len(idx):
            step[idx] = _solve(Imat[np.ix_(idx, idx)], U[idx], names, idx)
        if firth:
            big = np.max(np.abs(step) * sd, initial=0.0)
            if big > _FIRTH_MAX_STEP:
                step *= _FIRTH_MAX_STEP / big
        return step

    if len(idx) == 0:
        converged = True
    elif not np.isfinite(cur):
        raise ModelError(
            "the Cox log partial likelihood is not finite at the starting values; check `init` "
            "and the scale of the covariates."
        )
    else:
        try:
            step = newton_step(U, Imat)
        except ModelError as err:
            raise SingularStart(str(err)) from err
        full = True  # the step is a full (not halved) Newton step
        for n_iter in range(1, max_iter + 1):  # noqa: B007
            if firth and full and np.max(np.abs(step)) <= 10 * tol:
                converged = True
                break
            cand = beta + step
            ev_new, new, U_new, I_new = evaluate(prob, cand, pen, firth)
            rel = abs(1.0 - cur / new) if np.isfinite(new) and new != 0 else np.inf
            if not firth and (rel <= tol or (np.isfinite(new) and abs(new - cur) <= tol)):
                # R's relative criterion; the absolute one ends monotone likelihoods whose log
                # likelihood creeps towards 0. A step worse only by rounding is not taken.
                if new >= cur:
                    beta, cur, ev, U, Imat = cand, new, ev_new, U_new, I_new
                converged = True
                break
            if not np.isfinite(new) or new < cur:
                if firth and np.max(np.abs(step)) <= 10 * tol:
                    converged = True  # at the maximum up to rounding
                    break
                step = 0.5 * step  # not improving: halve the step (as R's coxfit6)
                full = False
                continue
            gain = new - cur
            beta, cur, ev, U, Imat = cand, new, ev_new, U_new, I_new
            try:
                step = newton_step(U, Imat)
            except ModelError:  # exp(x b) out of range: diverging coefficients, stop here
                halted = True
                break
            full = True
            if firth:
                continue
            # monotone likelihood: near a finite maximum a step of half a standard deviation
            # gains far more than 1e-4; steps that stay large while the gains vanish mean the
            # maximum is at infinity (R runs on to iter.max; we stop after two such steps)
            if gain < 1e-4 and np.max(np.abs(step) * sd) > 0.5:
                flat_steps += 1
                if flat_steps >= 2:
                    halted = True
                    break
            else:
                flat_steps = 0
    return NewtonState(beta, ev, cur, U, Imat, n_iter, converged, halted, *start)
