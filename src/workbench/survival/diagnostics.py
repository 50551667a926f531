"""Diagnostics of a Cox fit: score and Schoenfeld residuals and the proportional-hazards test of
R ``survival::cox.zph`` (:class:`PHTestResult`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    ModelError,
    ParameterError,
    ProportionalHazardsWarning,
)
from ..results import Result
from .kernels import km_left_limit


# ================================================================================================
# the numerical core: partial likelihood, its derivatives and the per-event-time quantities
# ================================================================================================
@dataclass
class _Stratum:
    """One stratum sorted by tenure, descending, with its event-time groups."""

    rows: np.ndarray  # positions in the fitting arrays, sorted by time descending
    X: np.ndarray
    w: np.ndarray
    event: np.ndarray
    grp: np.ndarray  # group index of each row (unique times, descending)
    g_time: np.ndarray
    g_end: np.ndarray  # one past the last row of the group (risk set = rows [0, g_end))
    ev_groups: np.ndarray  # groups with at least one event
    n_dead: np.ndarray  # events per event group
    w_dead: np.ndarray  # summed weight of the events per event group
    k_group: np.ndarray  # per Efron step: its event group (position in ev_groups)
    k_frac: np.ndarray  # per Efron step: k / d (0 for Breslow)
    k_mult: np.ndarray  # per Efron step: mean weight of the deaths (sum of weights for Breslow)


def _prepare_strata(time, event, X, w, strata, ties) -> list[_Stratum]:
    out = []
    codes = np.zeros(len(time), dtype=int) if strata is None else strata
    for s in np.unique(codes):
        rows = np.flatnonzero(codes == s)
        order = np.lexsort((-event[rows], -time[rows]))  # time descending
        rows = rows[order]
        t = time[rows]
        e = event[rows]
        new = np.r_[True, t[1:] != t[:-1]]
        grp = np.cumsum(new) - 1
        starts = np.flatnonzero(new)
        ends = np.r_[starts[1:], len(t)]
        n_dead_all = np.bincount(grp, weights=e, minlength=len(starts))
        w_dead_all = np.bincount(grp, weights=e * w[rows], minlength=len(starts))
        ev_groups = np.flatnonzero(n_dead_all > 0)
        n_dead = n_dead_all[ev_groups].astype(int)
        w_dead = w_dead_all[ev_groups]
        if ties == "efron":
            k_group = np.repeat(np.arange(len(ev_groups)), n_dead)
            first = np.repeat(np.cumsum(n_dead) - n_dead, n_dead)
            k = np.arange(k_group.size) - first
            k_frac = k / n_dead[k_group]
            k_mult = (w_dead / n_dead)[k_group]
        else:
            k_group = np.arange(len(ev_groups))
            k_frac = np.zeros(len(ev_groups))
            k_mult = w_dead.copy()
        out.append(
            _Stratum(
                rows=rows,
                X=X[rows],
                w=w[rows],
                event=e,
                grp=grp,
                g_time=t[starts],
                g_end=ends,
                ev_groups=ev_groups,
                n_dead=n_dead,
                w_dead=w_dead,
                k_group=k_group,
                k_frac=k_frac,
                k_mult=k_mult,
            )
        )
    return out


def _group_sum(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Row sums of ``values`` (n x p) by integer ``groups``: one ``bincount`` per column
    (much faster than ``np.add.at``)."""
    if values.ndim == 1:
        return np.bincount(groups, weights=values, minlength=n_groups)
    out = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(groups, weights=values[:, j], minlength=n_groups)
    return out


@dataclass
class _StratumSums:
    S0: np.ndarray  # per event group
    S1: np.ndarray
    D0: np.ndarray
    D1: np.ndarray
    den: np.ndarray  # per Efron step
    xbar: np.ndarray  # per Efron step
    r: np.ndarray  # per row: w * exp(eta)
    eta: np.ndarray


def _stratum_sums(st: _Stratum, beta: np.ndarray) -> _StratumSums:
    eta = st.X @ beta
    r = st.w * np.exp(eta)
    cs0 = np.cumsum(r)
    cs1 = np.cumsum(r[:, None] * st.X, axis=0)
    last = st.g_end[st.ev_groups] - 1
    S0, S1 = cs0[last], cs1[last]
    rd = r * st.event
    D0 = np.bincount(st.grp, weights=rd, minlength=len(st.g_end))[st.ev_groups]
    D1 = _group_sum(rd[:, None] * st.X, st.grp, len(st.g_end))[st.ev_groups]
    kg, f = st.k_group, st.k_frac
    den = S0[kg] - f * D0[kg]
    xbar = (S1[kg] - f[:, None] * D1[kg]) / den[:, None]
    return _StratumSums(S0=S0, S1=S1, D0=D0, D1=D1, den=den, xbar=xbar, r=r, eta=eta)


def _weighted_info(
    st: _Stratum, sm: _StratumSums, group_weight: np.ndarray | None = None
) -> np.ndarray:
    """sum over event groups of group_weight * (Efron-averaged weighted covariance of x in the risk set)."""
    gw = np.ones(len(st.ev_groups)) if group_weight is None else group_weight
    c_g = np.bincount(st.k_group, weights=st.k_mult / sm.den, minlength=len(st.ev_groups)) * gw
    e_g = (
        np.bincount(st.k_group, weights=st.k_mult * st.k_frac / sm.den, minlength=len(st.ev_groups))
        * gw
    )
    # per row: sum of c_g over event groups whose time <= the row's time (groups at or after the row's group)
    c_all = np.zeros(len(st.g_end))
    c_all[st.ev_groups] = c_g
    C = np.cumsum(c_all[::-1])[::-1][st.grp]
    e_all = np.zeros(len(st.g_end))
    e_all[st.ev_groups] = e_g
    Erow = e_all[st.grp] * st.event
    wrow = sm.r * (C - Erow)
    info = (st.X * wrow[:, None]).T @ st.X
    m = st.k_mult * gw[st.k_group]
    info -= (sm.xbar * m[:, None]).T @ sm.xbar
    return info


@dataclass
class _CoxFit:
    beta: np.ndarray
    information: np.ndarray  # observed information (penalised when penalizer > 0)
    loglik: float
    loglik_null: float
    score: np.ndarray
    converged: bool
    n_iter: int
    strata: list = field(default_factory=list)


def _loglik_score_info(strata: list[_Stratum], beta: np.ndarray, need_info: bool = True):
    p = beta.size
    ll, U, info = 0.0, np.zeros(p), np.zeros((p, p))
    for st in strata:
        sm = _stratum_sums(st, beta)
        wd = st.w * st.event
        ll += float(wd @ sm.eta - st.k_mult @ np.log(sm.den))
        U += wd @ st.X - st.k_mult @ sm.xbar
        if need_info:
            info += _weighted_info(st, sm)
    return ll, U, info


def _fit_coefficients(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    ties: str = "efron",
    penalizer: float = 0.0,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> _CoxFit:
    """Maximise the (penalised) Cox partial likelihood: the one place where the Cox numerics happen.

    The fit is done by the fast engine (:func:`workbench.survival.engine.cox_fit`, Newton-Raphson on
    sorted cumulative sums, checked against R and lifelines); the per-stratum sums kept here serve
    the residuals, ``cox.zph`` and the robust variance. ``X`` should be centred (it does not change
    the estimates, only the floating-point range). The penalty is
    ``0.5 * n * penalizer * sum((beta * sd)^2)`` with ``sd`` the covariates' standard deviations
    (a ridge on the standardised scale, lifelines' ``CoxPHFitter(penalizer=...)`` convention).
    Rows of weight 0 add nothing to the partial likelihood and are not passed to the engine.
    """
    from .engine import cox_fit

    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sts = _prepare_strata(time, event, X, w, strata, ties)
    if p == 0:
        ll, U, info = _loglik_score_info(sts, np.zeros(0))
        return _CoxFit(
            beta=np.zeros(0),
            information=info,
            loglik=ll,
            loglik_null=ll,
            score=U,
            converged=True,
            n_iter=0,
            strata=sts,
        )
    keep = w > 0
    with warnings.catch_warnings():  # _fit_cox states its own caveats (convergence, collinearity)
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", CollinearityWarning)
        f = cox_fit(
            X[keep],
            time[keep],
            event[keep],
            weights=w[keep],
            strata=None if strata is None else np.asarray(strata)[keep],
            ties=ties,
            penalizer=penalizer,
            max_iter=max_iter,
        )
    return _CoxFit(
        beta=f.params,
        information=f.information,
        loglik=f.loglik,
        loglik_null=f.loglik_null,
        score=f.score,
        converged=f.converged,
        n_iter=f.n_iter,
        strata=sts,
    )


# ------------------------------------------------------------------------------------------------
def _score_residuals(sts: list[_Stratum], beta: np.ndarray, n: int) -> np.ndarray:
    """Per-row score residuals (unweighted, as R ``residuals(fit, 'score')``), Efron or Breslow."""
    p = beta.size
    res = np.zeros((n, p))
    for st in sts:
        sm = _stratum_sums(st, beta)
        ng = len(st.ev_groups)
        hw = st.k_mult / sm.den  # hazard increment per Efron step
        full0 = np.bincount(st.k_group, weights=hw, minlength=ng)
        full1 = _group_sum(hw[:, None] * sm.xbar, st.k_group, ng)
        dw = hw * (1 - st.k_frac)
        dead0 = np.bincount(st.k_group, weights=dw, minlength=ng)
        dead1 = _group_sum(dw[:, None] * sm.xbar, st.k_group, ng)
        mean_xbar = _group_sum(sm.xbar, st.k_group, ng)
        mean_xbar /= np.bincount(st.k_group, minlength=ng)[:, None]
        G = len(st.g_end)
        a0 = np.zeros(G)
        a1 = np.zeros((G, p))
        a0[st.ev_groups] = full0
        a1[st.ev_groups] = full1
        # cumulative over groups with time < the row's time (groups after it in descending order)
        cum0 = np.cumsum(a0[::-1])[::-1]
        cum1 = np.cumsum(a1[::-1], axis=0)[::-1]
        strictly0 = np.r_[cum0[1:], 0.0][st.grp]
        strictly1 = np.vstack([cum1[1:], np.zeros((1, p))])[st.grp]
        # at the row's own time: full risk for censored rows, (1 - k/d) weights for the deaths
        own0 = a0[st.grp].copy()
        own1 = a1[st.grp].copy()
        pos = np.full(G, -1)
        pos[st.ev_groups] = np.arange(ng)
        dead = st.event > 0
        gi = pos[st.grp[dead]]
        own0[dead] = dead0[gi]
        own1[dead] = dead1[gi]
        H0 = strictly0 + own0
        H1 = strictly1 + own1
        risk = np.exp(sm.eta)
        r = -risk[:, None] * (st.X * H0[:, None] - H1)
        r[dead] += st.X[dead] - mean_xbar[gi]
        res[st.rows] = r
    return res


def _schoenfeld(sts: list[_Stratum], beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Schoenfeld residuals of every event (x minus the Efron-averaged risk-set mean).

    Returns ``(rows, times, residuals)`` ordered by stratum then time.
    """
    rows, times, res = [], [], []
    for st in sts:
        sm = _stratum_sums(st, beta)
        ng = len(st.ev_groups)
        mean_xbar = _group_sum(sm.xbar, st.k_group, ng)
        mean_xbar /= np.bincount(st.k_group, minlength=ng)[:, None]
        pos = np.full(len(st.g_end), -1)
        pos[st.ev_groups] = np.arange(ng)
        dead = np.flatnonzero(st.event > 0)[::-1]
        rows.append(st.rows[dead])
        times.append(st.g_time[st.grp[dead]])
        res.append(st.X[dead] - mean_xbar[pos[st.grp[dead]]])
    return np.concatenate(rows), np.concatenate(times), np.vstack(res)


def _zph(
    sts: list[_Stratum],
    beta: np.ndarray,
    information: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    term_covariate: list[str],
    transform: str,
):
    """The score test of R ``survival::cox.zph`` (survival >= 3.0)."""
    if transform == "km":
        tt = 1 - km_left_limit(time, event)
    elif transform == "identity":
        tt = time.astype(float)
    elif transform == "log":
        tt = np.log(time)
    elif transform == "rank":
        tt = stats.rankdata(time)
    else:
        raise ParameterError(
            f"`transform` must be one of 'km', 'rank', 'identity', 'log', got {transform!r}."
        )
    g_all = tt - tt[event > 0].mean()
    p = beta.size
    u2 = np.zeros(p)
    I12 = np.zeros((p, p))
    I22 = np.zeros((p, p))
    I11 = np.zeros((p, p))
    for st in sts:
        sm = _stratum_sums(st, beta)
        # g(t) of each event group: the value at its event rows (they share the time)
        for_g = np.full(len(st.g_end), np.nan)
        dead = st.event > 0
        for_g[st.grp[dead]] = g_all[st.rows[dead]]
        gg = for_g[st.ev_groups]
        wd = st.w * st.event
        xw = _group_sum(wd[:, None] * st.X, st.grp, len(st.g_end))
        Ug = xw[st.ev_groups] - _group_sum(
            st.k_mult[:, None] * sm.xbar, st.k_group, len(st.ev_groups)
        )
        u2 += gg @ Ug
        I11 += _weighted_info(st, sm)
        I12 += _weighted_info(st, sm, gg)
        I22 += _weighted_info(st, sm, gg * gg)
    imat = np.block([[I11, I12], [I12, I22]])
    u = np.r_[np.zeros(p), u2]
    rows = []
    covs = list(dict.fromkeys(term_covariate))
    for cov in covs:
        jj = [j for j, c in enumerate(term_covariate) if c == cov]
        kk = list(range(p)) + [p + j for j in jj]
        sub = imat[np.ix_(kk, kk)]
        uu = np.r_[np.zeros(p), u2[jj]]
        stat = float(uu @ linalg.solve(sub, uu, assume_a="sym"))
        rows.append((cov, stat, len(jj)))
    stat = float(u @ linalg.solve(imat, u, assume_a="sym"))
    rows.append(("GLOBAL", stat, p))
    table = pd.DataFrame(rows, columns=["term", "statistic", "df"])
    table["p_value"] = stats.chi2.sf(table["statistic"], table["df"])
    return table, tt


class PHTestResult(Result):
    """Test of proportional hazards (R ``cox.zph``): one row per covariate and a GLOBAL row.

    ``tables['residuals']`` holds the scaled Schoenfeld residuals (one row per event, one column
    per term, plus ``time`` and ``transformed_time``) that :meth:`plot` draws.
    """

    title = "Test of proportional hazards (scaled Schoenfeld residuals)"

    def plot(self, term: str | None = None, ax=None, **kwargs):
        """Scaled Schoenfeld residuals of ``term`` against transformed tenure, with a smooth."""
        from ..plotting.cox import plot_schoenfeld

        return plot_schoenfeld(self, term=term, ax=ax, **kwargs)


def ph_test(s: dict, meta: dict, transform: str = "km") -> PHTestResult:
    """The proportional-hazards test of a fitted Cox model (see ``CoxResult.ph_test``).

    ``s`` is the fit state a :class:`~workbench.survival.cox.CoxResult` keeps, ``meta`` its meta.
    A p-value below ``meta["alpha"]`` raises a :class:`ProportionalHazardsWarning` naming the
    covariates; it is also in the returned result's ``warnings``.
    """
    if not s["terms"]:
        raise ModelError("the Cox model has no terms left to test; add covariates.")
    table, tt = _zph(
        s["strata_obj"],
        s["beta"],
        s["info_unpenalized"],
        s["time"],
        s["event"],
        s["term_covariate"],
        transform,
    )
    rows, times, sres = _schoenfeld(s["strata_obj"], s["beta"])
    nevent = int(s["event"].sum())
    scaled = sres @ s["naive_var"] * nevent + s["beta"]
    resid = pd.DataFrame(scaled, columns=s["terms"])
    resid.insert(0, "transformed_time", tt[rows])
    resid.insert(0, "time", times)
    resid = resid.sort_values("time", kind="stable").reset_index(drop=True)
    msgs: list[str] = []
    alpha = meta["alpha"]
    bad = table[(table["term"] != "GLOBAL") & (table["p_value"] < alpha)]
    if len(bad):
        names = ", ".join(f"{t} (p={p:.3g})" for t, p in zip(bad["term"], bad["p_value"]))
        msg = (
            f"Proportional hazards rejected at alpha={alpha:g} for {names}: the hazard ratio changes "
            "with tenure. Remedies: stratify on the covariate (strata=[...]), split the follow-up time "
            "into periods with separate effects, or model a time-varying coefficient; "
            "read its Schoenfeld residual plot."
        )
        warnings.warn(msg, ProportionalHazardsWarning, stacklevel=3)
        msgs.append(msg)
    return PHTestResult(
        table,
        {
            "n": meta["n"],
            "events": meta["events"],
            "alpha": alpha,
            "transform": transform,
            "method": "score test (R survival::cox.zph)",
            "coefficients": dict(zip(s["terms"], map(float, s["beta"]))),
        },
        tables={"residuals": resid},
        warnings=msgs,
    )
