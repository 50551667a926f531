"""A fast Cox proportional-hazards engine in pure numpy.

:func:`cox_fit` maximises Cox's partial likelihood (Breslow or Efron handling of tied times, case
weights, strata, an optional ridge penalty or Firth's penalty) by Newton-Raphson with step halving, like R's
``survival::coxph``. It is built for customer scale (millions of rows):

* the data are sorted once (by stratum, then tenure descending), so every risk-set sum
  ``S0(t) = sum_{j: t_j >= t} w_j exp(x_j b)`` and ``S1(t)`` is a cumulative sum read off at the
  last row of each tied-time block;
* Efron's correction is vectorised over the deaths of all tied blocks at once (each death ``k`` of a
  block of ``d`` carries the fraction ``k / d``);
* the second-derivative term ``sum_t S2(t) / S0(t)`` is never formed per time: it equals
  ``X' diag(a) X`` with ``a_j = r_j * (cumulative hazard up to t_j)`` (one BLAS product per
  iteration), and the same coefficients give the score residuals for robust (sandwich) variances.

A Newton iteration costs a handful of passes over the ``n x p`` design, so 1,000,000 customers
with 10 covariates fit in seconds, tied (days) or untied (continuous) tenure alike.

:func:`baseline_hazard` / :func:`predict_survival` predict survival curves for many customers in
chunks; :class:`EngineCoxPHFitter` is a ``lifelines.CoxPHFitter`` whose Newton-Raphson runs on this
engine, for users who expect lifelines' results object.

References
----------
Cox, D. R. (1972). Regression models and life-tables. JRSS B 34(2), 187-220.
Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA 72, 557-565.
Breslow, N. (1974). Covariance analysis of censored survival data. Biometrics 30, 89-99.
Lin, D. Y. and Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
JASA 84, 1074-1078.
Therneau, T. M. and Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model.
Springer (the algorithms of R's ``survival::coxph``, ``coxfit6.c``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    ModelError,
    ParameterError,
    SeparationWarning,
)
from ._checks import _check_entry, _check_inputs, _test
from ._linalg import (
    _collinearity_error,
    _quad_solve,
    _safe_inverse,
    one_blas_thread,
)
from ._newton import SingularStart, firth_penalty, newton
from ._riskset import CoxBaseline, _Problem
from .prediction import baseline_hazard, predict_survival

__all__ = [  # noqa: F822 (EngineCoxPHFitter is loaded lazily)
    "EngineCoxPHFitter",
    "CoxBaseline",
    "CoxFit",
    "baseline_hazard",
    "cox_fit",
    "predict_survival",
]

_TIES = ("efron", "breslow")


@dataclass
class CoxFit:
    """What :func:`cox_fit` returns (plain arrays; the user-facing result lives in ``cox.py``).

    Attributes
    ----------
    params, se : ndarray (p,)
        Log hazard ratios and their standard errors (robust ones when ``robust``/``cluster``).
        A constant column gets ``nan`` (as R's ``NA``) and is listed in ``dropped``.
    score : ndarray (p,)
        Gradient of the (penalised) log partial likelihood at ``params`` (about zero).
    variance : ndarray (p, p)
        Variance matrix of ``params`` (the sandwich when robust, else the inverse information).
    naive_variance : ndarray (p, p)
        Inverse of the (penalised) information matrix.
    information : ndarray (k, k)
        Observed information at ``params`` over the non-dropped columns.
    loglik, loglik_null : float
        Log partial likelihood at ``params`` and at zero (penalty excluded).
    score_test, wald_test, lr_test : dict
        ``statistic``, ``df``, ``p_value`` of the global tests (score test at ``init``/zero).
    score_residuals : ndarray (n, p) or None
        Per-row score residuals in the caller's row order (weighted; they sum to the score).
        Present when ``robust`` or ``return_residuals``; ``dfbeta = score_residuals @ naive_variance``.
    baseline : CoxBaseline
        Baseline cumulative hazard at ``center`` for :func:`predict_survival`.
    """

    params: np.ndarray
    se: np.ndarray
    score: np.ndarray
    variance: np.ndarray
    naive_variance: np.ndarray
    information: np.ndarray
    loglik: float
    loglik_null: float
    score_test: dict
    wald_test: dict
    lr_test: dict
    n_iter: int
    converged: bool
    n: int
    n_events: int
    ties: str
    robust: bool
    terms: list[str]
    center: np.ndarray
    baseline: CoxBaseline
    dropped: list[str] = field(default_factory=list)
    score_residuals: np.ndarray | None = None
    penalizer: float = 0.0
    warnings: list[str] = field(default_factory=list)
    separated: list[str] = field(default_factory=list)
    firth: bool = False
    # the maximised objective: log partial likelihood minus the ridge penalty, or plus Firth's
    # 0.5 log det I(beta); and the same at beta = 0 (penalised LR test: twice their difference)
    penalised_loglik: float = float("nan")
    penalised_loglik_null: float = float("nan")
    fixed: list[str] = field(default_factory=list)  # terms held at their `fixed` values
    # (sorted problem, last evaluation, beta over kept columns, kept columns): residuals and cox.zph
    # of the model layer are computed from it; None on what cox_fit returns
    _internals: Any = field(default=None, repr=False, compare=False)
    _profile: Any = field(default=None, repr=False, compare=False)  # (pen, sd, names, firth)

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Tidy table: ``term``, ``estimate``, ``se``, ``hazard_ratio``, CI, ``statistic`` (z), ``p_value``."""
        z = stats.norm.ppf(1 - alpha / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            zstat = self.params / self.se
        return pd.DataFrame(
            {
                "term": self.terms,
                "estimate": self.params,
                "se": self.se,
                "hazard_ratio": np.exp(self.params),
                "ci_lower": self.params - z * self.se,
                "ci_upper": self.params + z * self.se,
                "statistic": zstat,
                "p_value": 2 * stats.norm.sf(np.abs(zstat)),
            }
        )


# -------------------------------------------------------------------------------------- fitting
def cox_fit(
    X,
    time,
    event,
    *,
    weights=None,
    strata=None,
    ties: str = "efron",
    penalizer: float = 0.0,
    init: Sequence[float] | None = None,
    tol: float = 1e-9,
    max_iter: int = 50,
    robust: bool = False,
    cluster=None,
    return_residuals: bool = False,
    entry=None,
    firth: bool = False,
    fixed: dict | None = None,
    keep_data: bool = False,
    frequency_weights: bool = False,
) -> CoxFit:
    """Fit a Cox proportional-hazards model by Newton-Raphson on sorted cumulative sums.

    Parameters
    ----------
    X : array-like or DataFrame (n, p)
        Numeric covariates (encode categories first). Column names become ``terms``.
    time : array-like (n,)
        Tenure (any unit), finite and non-negative.
    event : array-like (n,)
        1 = churned (event), 0 = censored.
    weights : array-like (n,), optional
        Positive case weights (R's ``weights=``; the naive variance is the inverse information,
        use ``robust=True`` for non-integer weights such as inverse-probability weights).
    strata : array-like (n,), optional
        Stratum labels: a separate baseline hazard per stratum.
    ties : {'efron', 'breslow'}
        Handling of tied event times (R's default is Efron, as lifelines').
    penalizer : float
        Ridge penalty in lifelines' parameterisation: the log partial likelihood minus
        ``0.5 * penalizer * n * sum((sd_j * beta_j)**2)`` (``sd_j`` the column's standard deviation),
        so ``penalizer`` gives lifelines' ``CoxPHFitter(penalizer=...)`` estimates.
    init : sequence of float, optional
        Starting values (default zero). The score test is evaluated there.
    tol : float
        Convergence when the relative change of the log partial likelihood is at most ``tol``
        (R's ``coxph.control(eps=)``), after a full (not halved) Newton step.
    max_iter : int
        Maximum Newton iterations (R's ``iter.max`` is 20; on non-convergence a
        :class:`~workbench.exceptions.ConvergenceWarning` is raised).
    robust : bool
        Sandwich (Lin-Wei) variance from the score residuals, as R's ``coxph(robust=TRUE)``.
    cluster : array-like (n,), optional
        Cluster ids; implies ``robust`` and sums score residuals within cluster (R's ``cluster()``).
    return_residuals : bool
        Keep the ``n x p`` score residuals in the result.
    entry : array-like (n,), optional
        Start of each row's interval: the row is at risk on ``(entry, time]`` (delayed entry, or
        the ``(start, stop]`` rows of time-varying covariates: R's ``Surv(start, stop, event)``).
        Pass ``cluster=`` the customer id for robust SEs when a customer has several rows.
    firth : bool
        Maximise Firth's penalised log partial likelihood ``l(beta) + 0.5 log det I(beta)``
        (Heinze & Schemper 2001; R ``coxphf`` with Breslow ties), finite under monotone likelihood
        (separation). Any ties, strata, weights and entry; not with ``penalizer``. The variance is
        the inverse of ``I(beta)`` at the estimate (the sandwich with ``robust`` / ``cluster``);
        ``penalised_loglik`` and the LR test carry the penalty. Profile penalised-likelihood
        intervals: :func:`workbench.survival.profile.cox_profile_ci`.
    fixed : dict, optional
        ``{column position: value}``: coefficients held at these values while the others are
        maximised (profile likelihoods; under Firth the full design's penalty is kept).
    keep_data : bool
        Keep the sorted data on the result for :mod:`workbench.survival.profile` (profile
        intervals, likelihood-ratio tests by refitting); off by default (it holds a copy of ``X``).
    frequency_weights : bool
        ``weights`` are whole numbers of identical rows (e.g. the cell counts of
        :func:`workbench.aggregate.counts`): Efron's correction then runs over the ``d`` = sum of
        the weights of a time's tied events, ``sum_{k<d} log(R - (k/d) E)``, so the fit equals the
        one on the expanded rows. Default (R's ``weights=``): one Efron step per tied row with the
        rows' mean weight. Breslow ties are the same either way. Costs one step per event.

    Returns
    -------
    CoxFit

    Raises
    ------
    ParameterError
        Malformed inputs (shapes, missing values, event not 0/1, bad ``ties``...).
    ModelError
        No events, or a singular information matrix (collinear covariates).

    Warns
    -----
    CollinearityWarning
        A constant column (its coefficient is ``nan``, as R's ``NA``).
    ConvergenceWarning
        Newton-Raphson did not converge in ``max_iter`` iterations or a coefficient diverges
        (monotone likelihood).

    Examples
    --------
    >>> from workbench.data import simulate
    >>> frame, _ = simulate(2_000, seed=1, tenure_unit="days")
    >>> X = frame[["age", "n_products"]].astype(float)
    >>> fit = cox_fit(X, frame["tenure"], frame["churned"])
    >>> fit.converged, fit.params.shape
    (True, (2,))

    References
    ----------
    Cox (1972); Efron (1977); Breslow (1974); Lin and Wei (1989); Therneau and Grambsch (2000);
    Heinze and Schemper (2001), see the module docstring.
    """
    kwargs = dict(weights=weights, strata=strata, ties=ties, penalizer=penalizer, init=init)
    kwargs.update(tol=tol, max_iter=max_iter, robust=robust, cluster=cluster, entry=entry)
    kwargs.update(firth=firth, fixed=fixed)
    kwargs.update(frequency_weights=frequency_weights)
    with _one_blas_thread():
        fit = _cox_fit(X, time, event, return_residuals=return_residuals, **kwargs)
    if not keep_data:  # the sorted problem is kept only for profile likelihoods / the model layer
        fit._internals = fit._profile = None
    return fit


def _check_frequency(w) -> None:
    """Frequency weights must be given and be whole numbers (counts of identical rows)."""
    if w is None:
        raise ParameterError(
            "`frequency_weights=True` needs `weights` (the number of identical rows each row "
            "stands for); pass weights=counts or drop frequency_weights."
        )
    frac = w != np.round(w)
    if frac.any():
        raise ParameterError(
            f"`frequency_weights=True` needs whole-number weights, got {int(frac.sum()):,} "
            f"fractional value(s) such as {float(w[frac][0]):g}; use frequency_weights=False for "
            "case weights (R's weighted Efron)."
        )


def _one_blas_thread():
    """BLAS limited to one thread (:func:`._linalg.one_blas_thread`)."""
    return one_blas_thread()


def _numpy_quiet(fn):
    """Run ``fn`` with numpy's floating-point warnings off: the fit checks finiteness itself and
    states its caveats as named warnings (no RuntimeWarning reaches the user)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            return fn(*args, **kwargs)

    return wrapper


@_numpy_quiet
def _cox_fit(
    X,
    time,
    event,
    *,
    weights,
    strata,
    ties,
    penalizer,
    init,
    tol,
    max_iter,
    robust,
    cluster,
    return_residuals,
    entry=None,
    names: Sequence[str] | None = None,
    firth: bool = False,
    fixed: dict | None = None,
    frequency_weights: bool = False,
) -> CoxFit:
    """:func:`cox_fit` without the BLAS limit; ``names`` label the columns of an array ``X``."""
    if ties not in _TIES:
        raise ParameterError(f"`ties` must be one of {_TIES}, got {ties!r}.")
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ParameterError(f"`max_iter` must be a positive integer, got {max_iter!r}.")
    if not (tol > 0):
        raise ParameterError(f"`tol` must be > 0, got {tol!r}.")
    if not (np.isscalar(penalizer) and penalizer >= 0):
        raise ParameterError(f"`penalizer` must be a number >= 0, got {penalizer!r}.")
    if not isinstance(firth, (bool, np.bool_)):
        raise ParameterError(f"`firth` must be True or False, got {firth!r}.")
    if firth and penalizer:
        raise ParameterError(
            f"`firth=True` with `penalizer={penalizer!r}`: choose one penalty (Firth's for "
            "separation, the ridge for many correlated covariates); set `penalizer=0`."
        )
    Xa, terms, t, e, w, codes, levels, cl = _check_inputs(X, time, event, weights, strata, cluster)
    if names is not None:
        terms = [str(x) for x in names]
    n, p = Xa.shape
    n_events = int(e.sum())
    if n_events == 0:
        raise ModelError(
            f"no events: all {n:,} rows are censored (event == 0), so the Cox partial likelihood is "
            "empty. Check the event column (1 = churned) or the selection of rows."
        )
    msgs: list[str] = []
    const = np.flatnonzero(~(np.ptp(Xa, axis=0) > 0))
    keep = np.setdiff1d(np.arange(p), const)
    dropped = [terms[j] for j in const]
    if dropped:
        msg = (
            f"covariate(s) {dropped} are constant, so their effect cannot be estimated; "
            "their coefficients are reported as nan (as R's NA). Drop them from the model."
        )
        warnings.warn(msg, CollinearityWarning, stacklevel=4)
        msgs.append(msg)
    wsum = w.sum() if w is not None else float(n)
    center = (w @ Xa / wsum) if w is not None else Xa.mean(axis=0)
    k = len(keep)
    ent = _check_entry(entry, t)
    if frequency_weights:
        _check_frequency(w)
    # sorted and centred in one copy of X (the kept columns only)
    Xk = Xa if k == p else Xa[:, keep]
    prob = _Problem(Xk, t, e, w, codes, ties, ent, frequency=frequency_weights, center=center[keep])
    Xk = prob.X  # centred, in the problem's (sorted) order
    sd = np.zeros(p)
    if n > 1 and w is None:  # centred at the mean: the sum of squares without another copy
        sd[keep] = np.sqrt(np.einsum("ij,ij->j", Xk, Xk) / (n - 1))
    elif n > 1:
        sd[keep] = Xk.std(axis=0, ddof=1)
    pen = float(penalizer) * n * sd[keep] ** 2 if penalizer else np.zeros(k)
    fixed = dict(fixed or {})
    bad = [j for j in fixed if not (isinstance(j, (int, np.integer)) and 0 <= j < p)]
    if bad:
        raise ParameterError(
            f"`fixed` keys must be column positions 0..{p - 1}; got {bad}. Pass {{position: value}}."
        )
    if init is not None:
        init_a = np.asarray(init, dtype=float)
        if init_a.shape != (p,):
            raise ParameterError(
                f"`init` must have {p} values (one per column of X), got {init_a.shape}."
            )
        beta = init_a[keep].copy()
    else:
        beta = np.zeros(k)

    free = np.ones(k, dtype=bool)
    for j, v in fixed.items():
        pos = np.flatnonzero(keep == j)
        if len(pos):  # a constant column stays dropped
            beta[pos[0]] = float(v)
            free[pos[0]] = False
    names = [terms[j] for j in keep]
    sd_k = np.where(sd[keep] > 0, sd[keep], 1.0)
    zero_start = not beta.any()
    try:
        state = newton(
            prob,
            beta,
            pen=pen,
            firth=firth,
            free=free,
            tol=tol,
            max_iter=max_iter,
            sd=sd_k,
            names=names,
        )
    except SingularStart:  # singular at the start: the design itself is collinear
        raise _collinearity_error(Xk, names) from None
    fr = np.flatnonzero(free)
    score_stat = (
        _quad_solve(state.start_info[np.ix_(fr, fr)], state.start_score[fr], names, fr)
        if len(fr)
        else 0.0
    )
    beta, ev, cur_ll = state.beta, state.ev, state.objective
    converged, halted, n_iter = state.converged, state.halted, state.n_iter
    if k == 0:
        loglik_null = pl_null = ev.loglik
    elif zero_start and not firth:
        loglik_null = pl_null = state.start_objective
    else:
        ev0 = prob.evaluate(np.zeros(k), second=firth, keep=firth)
        loglik_null = ev0.loglik
        pl_null = (
            state.start_objective
            if zero_start
            else ev0.loglik + (firth_penalty(prob, np.zeros(k), ev0)[0] if firth else 0.0)
        )
    Imat = ev.info + np.diag(pen)  # ev: the last accepted evaluation, at beta
    Vk, singular = _safe_inverse(Imat) if k else (np.zeros((0, 0)), np.zeros(0, dtype=bool))
    U = state.score
    infinite = np.zeros(k, dtype=bool)
    if k and not firth:  # Firth's estimates are finite (Heinze & Schemper 2001)
        # R's check (the Newton step of a diverging coefficient stays large after convergence),
        # plus coefficients beyond e^10 per standard deviation whose SE dwarfs them
        nstep = np.nan_to_num(Vk @ U, nan=np.inf)
        with np.errstate(invalid="ignore"):
            se_k = np.sqrt(np.diag(Vk))
            if converged:
                infinite = (np.abs(nstep) > tol) & (np.abs(nstep) > math.sqrt(tol) * np.abs(beta))
            infinite |= (np.abs(beta) * sd_k > 10) & ~(se_k < 10 * np.abs(beta))
            infinite |= singular
            if halted:
                infinite |= (np.abs(beta) * sd_k > 5) | (np.abs(nstep) * sd_k > 0.5)
            elif not converged:  # out of iterations with the score still pushing outwards
                infinite |= (np.abs(beta) * sd_k > 5) & (np.sign(U) == np.sign(beta))
    infinite &= free  # a coefficient held fixed (profile likelihoods) is not estimated
    for j in np.flatnonzero(infinite):
        msg = (
            f"Monotone likelihood for {names[j]!r}: its coefficient ({beta[j]:.3g}) is heading to "
            "+/- infinity (separation: churn occurs only, or never, in part of its range), so its "
            "hazard ratio and interval are not usable. Refit with Firth's penalised likelihood "
            "(firth=True) or merge / drop levels of that covariate."
        )
        warnings.warn(msg, SeparationWarning, stacklevel=4)
        msgs.append(msg)
    if infinite.any():
        converged = False  # the maximum is at infinity: never reported as converged
        Vk[np.ix_(infinite, infinite)] = np.nan
        Vk[infinite, infinite] = np.inf
    elif not converged:
        msg = (
            f"the Cox fit did not converge in {max_iter} Newton-Raphson iterations (last log "
            f"partial likelihood {cur_ll:.6g}); estimates are not to be trusted. Raise `max_iter`, "
            "check for covariates that separate churners from stayers, or use a `penalizer`."
        )
        warnings.warn(msg, ConvergenceWarning, stacklevel=4)
        msgs.append(msg)

    is_robust = bool(robust or cl is not None)
    resid_sorted = None
    if is_robust or return_residuals:
        resid_sorted = prob.score_residuals(beta, ev)
    Vr = None
    if is_robust:
        if cl is not None:
            clus = cl[prob.order]
            G = np.zeros((int(clus.max()) + 1, k))
            np.add.at(G, clus, resid_sorted)
        else:
            G = resid_sorted
        meat = G.T @ G
        Vr = Vk @ meat @ Vk

    def expand_vec(v, fill=np.nan):
        out = np.full(p, fill)
        out[keep] = v
        return out

    def expand_mat(m):
        out = np.full((p, p), np.nan)
        out[np.ix_(keep, keep)] = m
        return out

    params = expand_vec(beta)
    naive = expand_mat(Vk)
    variance = expand_mat(Vr) if Vr is not None else naive
    se = np.sqrt(np.diag(variance))
    wald = float(beta @ np.linalg.solve(Vr if Vr is not None else Vk, beta)) if k else 0.0
    resid = None
    if resid_sorted is not None:
        resid = np.full((n, p), np.nan)
        tmp = np.empty_like(resid_sorted)
        tmp[prob.order] = resid_sorted
        resid[:, keep] = tmp
    base = prob.baseline(beta, ev, levels, center)
    fit = CoxFit(
        params=params,
        se=se,
        score=expand_vec(U, 0.0),
        variance=variance,
        naive_variance=naive,
        information=Imat,
        separated=[names[j] for j in np.flatnonzero(infinite)],
        loglik=min(float(ev.loglik), 0.0),  # at most 0; a positive value is rounding
        loglik_null=min(float(loglik_null), 0.0),
        score_test=_test(score_stat, k),
        wald_test=_test(wald, k),
        lr_test=_test(
            2 * (cur_ll - pl_null) if firth else 2 * (min(ev.loglik, 0.0) - min(loglik_null, 0.0)),
            k,
        ),
        firth=bool(firth),
        penalised_loglik=float(cur_ll),
        penalised_loglik_null=float(pl_null),
        fixed=[names[j] for j in np.flatnonzero(~free)],
        n_iter=int(n_iter),
        converged=converged,
        n=n,
        n_events=n_events,
        ties=ties,
        robust=is_robust,
        terms=terms,
        center=center,
        baseline=base,
        dropped=dropped,
        score_residuals=resid,
        penalizer=float(penalizer),
        warnings=msgs,
    )
    fit._internals = (prob, ev, beta, keep)
    fit._profile = (pen, sd_k, names, bool(firth))
    return fit


def __getattr__(name: str) -> Any:
    if name == "EngineCoxPHFitter":
        from ._engine_lifelines import EngineCoxPHFitter

        return EngineCoxPHFitter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
