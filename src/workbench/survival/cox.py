"""Cox proportional-hazards regression with diagnostics.

:func:`fit_cox` fits ``h(t | x) = h0_s(t) exp(x @ beta)`` by maximising the partial likelihood
(Efron or Breslow handling of tied tenures, strata, case weights, cluster-robust variance, an
optional ridge penalty) and returns a :class:`CoxResult`: hazard ratios with Wald intervals,
concordance, the test of proportional hazards of R ``survival::cox.zph`` (a score test, one row per
covariate and a GLOBAL row), survival predictions and a forest plot.
:func:`cause_specific_cox` fits the same model to one churn cause, other causes censored.

Every numerical fit goes through the private :func:`_fit_coefficients`, so the fitting engine can be
swapped (e.g. for a compiled one) without touching the rest. The implementation follows R
``survival::coxph`` (``coxfit6``) exactly, including the weighted Efron approximation, so that
estimates agree with R to 1e-6; lifelines' ``CoxPHFitter`` offers Efron ties only and no access
to the per-event-time quantities that ``cox.zph`` and the robust variance need.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..checks import check_alpha as _check_alpha
from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    DataValidationError,
    ModelError,
    ParameterError,
    ProportionalHazardsWarning,
    RowsExcludedWarning,
    SeparationWarning,
    SmallSampleWarning,
)
from ..results import Result

__all__ = ["CoxResult", "PHTestResult", "cause_specific_cox", "fit_cox"]

TIES = ("efron", "breslow")


def _single_thread(fn):
    """Run ``fn`` with BLAS limited to one thread: the designs are narrow (n x p with small p), and on
    a shared machine threaded BLAS on such products is 10-100x slower (oversubscription)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover
            return fn(*args, **kwargs)
        with threadpool_limits(1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


MIN_EVENTS_PER_PARAMETER = 10


# ================================================================================================
# input handling (shared with competing.py)
# ================================================================================================
def _resolve_frame(data: Any) -> tuple[pd.DataFrame, Any]:
    """Return ``(frame, spec or None)`` from a Dataset or a DataFrame."""
    frame = getattr(data, "frame", None)
    if isinstance(frame, pd.DataFrame) and hasattr(data, "spec"):
        return frame, data.spec
    if isinstance(data, pd.DataFrame):
        return data, None
    raise ParameterError(
        f"`data` must be a workbench Dataset or a pandas DataFrame, got {type(data).__name__}. "
        "Load data with workbench.data.load_dataset(...) or pass a DataFrame."
    )


def _column(
    frame: pd.DataFrame,
    spec: Any,
    value: str | None,
    *,
    argument: str,
    role: str | None,
    required: bool = True,
) -> str | None:
    """Resolve a column argument (defaulting from ``spec.<role>``) and check it exists."""
    if value is None and spec is not None and role is not None:
        value = getattr(spec, role, None)
    if value is None:
        if required:
            raise ParameterError(
                f"`{argument}` is required when `data` is a DataFrame without a role spec; "
                f"pass {argument}='<column name>'."
            )
        return None
    _check_columns(frame, [value], argument=argument)
    return value


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], *, argument: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(str(c), [str(x) for x in frame.columns], n=3)
            hints.append(
                f"{c!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "")
            )
        raise ParameterError(
            f"`{argument}`: column(s) {', '.join(hints)} not found in the data. "
            f"Available columns: {', '.join(map(str, list(frame.columns)[:30]))}"
            + (" ..." if len(frame.columns) > 30 else "")
            + "."
        )


def _event_array(frame: pd.DataFrame, event_col: str) -> np.ndarray:
    e = frame[event_col]
    if pd.api.types.is_bool_dtype(e):
        return e.to_numpy(dtype=float)
    vals = pd.to_numeric(e, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        examples = pd.unique(e[bad])[:5].tolist()
        raise DataValidationError(
            f"`event_col` {event_col!r} must be 0/1 (1 = churned); found {int(bad.sum())} other value(s), "
            f"e.g. {examples}. Recode it, e.g. (df[{event_col!r}] == 'Yes').astype(int).",
            column=event_col,
            rule="binary",
            n_rows=int(bad.sum()),
            examples=examples,
        )
    return vals


def _duration_array(frame: pd.DataFrame, duration_col: str) -> np.ndarray:
    t = pd.to_numeric(frame[duration_col], errors="coerce").to_numpy(dtype=float)
    neg = t < 0
    if neg.any():
        raise DataValidationError(
            f"`duration_col` {duration_col!r} has {int(neg.sum())} negative value(s) "
            f"(e.g. {t[neg][:3].tolist()}); tenure must be >= 0. Check the start and end dates.",
            column=duration_col,
            rule="non_negative",
            n_rows=int(neg.sum()),
        )
    return t


def _warn(messages: list[str], message: str, category: type[Warning]) -> None:
    warnings.warn(message, category, stacklevel=3)
    messages.append(message)


def _drop_missing(
    frame: pd.DataFrame, columns: Sequence[str], messages: list[str], exclusions: list[dict]
) -> pd.DataFrame:
    """Drop rows with a missing value in ``columns``; count, warn and record the exclusion."""
    cols = list(dict.fromkeys(c for c in columns if c is not None))
    miss = frame[cols].isna()
    bad = miss.any(axis=1)
    if bad.any():
        per_col = {c: int(miss[c].sum()) for c in cols if miss[c].any()}
        n_bad = int(bad.sum())
        _warn(
            messages,
            f"{n_bad:,} of {len(frame):,} rows excluded for missing values "
            f"({', '.join(f'{c}: {k:,}' for c, k in per_col.items())}).",
            RowsExcludedWarning,
        )
        exclusions.append({"rule": "missing", "n_rows": n_bad, "columns": per_col})
        frame = frame.loc[~bad]
    return frame


# ================================================================================================
# design matrix
# ================================================================================================
@dataclass
class _Design:
    X: np.ndarray
    terms: list[str]
    term_covariate: list[str]
    levels: dict[str, dict]  # covariate -> {"reference": level, "levels": [...]} for categoricals
    term_level: list = field(default_factory=list)  # the level a dummy term codes (None: numeric)
    dropped: list[dict] = field(default_factory=list)


def _is_categorical(s: pd.Series) -> bool:
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(s)
        or pd.api.types.is_object_dtype(s)
        or pd.api.types.is_string_dtype(s)
    )


def _default_reference(s: pd.Series, levels: list) -> Any:
    if pd.api.types.is_bool_dtype(s):
        return False if False in levels else levels[0]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return levels[0]
    counts = s.value_counts()
    top = counts[counts == counts.max()].index
    return sorted(top, key=str)[0]


def _build_design(
    frame: pd.DataFrame, covariates: Sequence[str], reference: dict | None
) -> _Design:
    reference = dict(reference or {})
    unknown = [c for c in reference if c not in covariates]
    if unknown:
        raise ParameterError(
            f"`reference` names column(s) {unknown} that are not in `covariates` {list(covariates)}; "
            "give reference levels only for categorical covariates you model."
        )
    cols, terms, owner, levels, term_level = [], [], [], {}, []
    for cov in covariates:
        s = frame[cov]
        if _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                present = set(s.dropna().unique())
                lv = [c for c in s.cat.categories if c in present]
            else:
                lv = sorted(s.dropna().unique().tolist(), key=str)
            if cov in reference:
                ref = reference[cov]
                match = [v for v in lv if v == ref or str(v) == str(ref)]
                if not match:
                    raise ParameterError(
                        f"`reference`: level {ref!r} of {cov!r} does not occur in the data; "
                        f"levels present: {lv}. Pass one of these, e.g. reference={{{cov!r}: {lv[0]!r}}}."
                    )
                ref = match[0]
            else:
                ref = _default_reference(s, lv)
            levels[cov] = {"reference": ref, "levels": lv}
            for v in lv:
                if v == ref:
                    continue
                cols.append((s == v).to_numpy(dtype=float))
                terms.append(f"{cov}[{v}]")
                owner.append(cov)
                term_level.append(v)
            if len(lv) == 1:
                cols.append(np.zeros(len(s)))
                terms.append(f"{cov}[{lv[0]}]")
                owner.append(cov)
                term_level.append(lv[0])
        else:
            if cov in reference:
                raise ParameterError(
                    f"`reference` given for {cov!r}, but it is numeric ({s.dtype}); reference levels apply "
                    f"to categorical columns. Convert it with df[{cov!r}].astype('category') to dummy-code it."
                )
            if not pd.api.types.is_numeric_dtype(s):
                raise DataValidationError(
                    f"covariate {cov!r} has type {s.dtype}, neither numeric nor categorical; "
                    "convert it to numbers or to a category.",
                    column=cov,
                    rule="type",
                )
            cols.append(s.to_numpy(dtype=float))
            terms.append(cov)
            owner.append(cov)
            term_level.append(None)
    X = np.column_stack(cols) if cols else np.empty((len(frame), 0))
    return _Design(X=X, terms=terms, term_covariate=owner, levels=levels, term_level=term_level)


def _drop_degenerate(
    design: _Design, strata_codes: np.ndarray | None, messages: list[str], model: str = "Cox model"
) -> _Design:
    """Drop constant and collinear design columns, naming them (R gives such terms NA)."""
    X = design.X
    keep = np.ones(X.shape[1], dtype=bool)
    dropped = []
    for j in range(X.shape[1]):
        col = X[:, j]
        if np.ptp(col) == 0 if col.size else True:
            keep[j] = False
            dropped.append(
                {
                    "term": design.terms[j],
                    "reason": f"constant (every row is {col[0]:g})" if col.size else "no rows",
                }
            )
        elif strata_codes is not None:
            df = pd.DataFrame({"x": col, "s": strata_codes})
            if (df.groupby("s")["x"].nunique() <= 1).all():
                keep[j] = False
                dropped.append({"term": design.terms[j], "reason": "constant within every stratum"})
    idx = np.flatnonzero(keep)
    if idx.size > 1:
        Xc = X[:, idx] - X[:, idx].mean(axis=0)
        scale = np.sqrt((Xc**2).mean(axis=0))
        Xs = Xc / scale
        _, R, piv = linalg.qr(Xs, mode="economic", pivoting=True)
        diag = np.abs(np.diag(R))
        tol = max(Xs.shape) * np.finfo(float).eps * 1e3 * (diag[0] if diag.size else 1.0)
        rank = int((diag > tol).sum())
        if rank < idx.size:
            basis = idx[piv[:rank]]
            for pj in piv[rank:]:
                j = idx[pj]
                coef, *_ = linalg.lstsq(Xs[:, piv[:rank]], Xs[:, pj])
                partners = [
                    design.terms[basis[k]] for k in np.argsort(-np.abs(coef)) if abs(coef[k]) > 1e-6
                ][:4]
                keep[j] = False
                dropped.append(
                    {
                        "term": design.terms[j],
                        "reason": "collinear with " + (", ".join(partners) or "the other terms"),
                    }
                )
    for d in dropped:
        _warn(
            messages,
            f"Term {d['term']!r} dropped from the {model}: {d['reason']}. Its hazard ratio cannot "
            "be estimated from these data; remove the covariate or merge its levels.",
            CollinearityWarning,
        )
    if not dropped:
        return design
    k = np.flatnonzero(keep)
    return _Design(
        X=X[:, k],
        terms=[design.terms[i] for i in k],
        term_covariate=[design.term_covariate[i] for i in k],
        levels=design.levels,
        term_level=[design.term_level[i] for i in k],
        dropped=dropped,
    )


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


def _km_transform(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """``1 - S(t-)`` of the unweighted, unstratified Kaplan-Meier curve (R ``cox.zph`` 'km')."""
    ut, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=event)
    n_at = len(time) - np.r_[0, np.cumsum(np.bincount(inv))[:-1]]
    surv = np.cumprod(1 - d / n_at)
    left = np.r_[1.0, surv[:-1]]
    return 1 - left[inv]


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
        tt = _km_transform(time, event)
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


# ================================================================================================
# results
# ================================================================================================
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


class CoxResult(Result):
    """A fitted Cox model: ``summary`` has one row per model term.

    Columns: ``term``, ``covariate``, ``estimate`` (log hazard ratio), ``se``, ``hazard_ratio``,
    ``ci_lower``/``ci_upper`` (hazard-ratio scale), ``statistic`` (Wald z) and ``p_value``.
    Attributes ending in ``_`` hold the fit: ``params_``, ``variance_``, ``baseline_cumulative_hazard_``.
    """

    title = "Cox proportional-hazards model"

    def __init__(self, summary, meta, *, warnings, fit_state: dict):
        super().__init__(summary, meta, warnings=warnings)
        self._state = fit_state
        self.params_ = pd.Series(fit_state["beta"], index=fit_state["terms"], name="log_hr")
        self.variance_ = pd.DataFrame(
            fit_state["var"], index=fit_state["terms"], columns=fit_state["terms"]
        )
        self.baseline_cumulative_hazard_ = fit_state["baseline"]
        self._ph: dict[str, PHTestResult] = {}

    # -------------------------------------------------------------------------------------------
    @_single_thread
    def ph_test(self, transform: str = "km") -> PHTestResult:
        """Test proportional hazards per covariate and globally, as R ``survival::cox.zph``.

        The score test of adding ``g(t) * x`` to the model (Grambsch & Therneau 1994), with
        ``g`` the chosen transform of tenure (``'km'``: one minus the left-continuous Kaplan-Meier
        estimate, R's default; ``'rank'``, ``'identity'``, ``'log'``). A categorical covariate gets
        one row with as many degrees of freedom as it has dummy terms (R's ``terms=TRUE``).
        When a p-value is below ``alpha`` a :class:`ProportionalHazardsWarning` names the
        covariates and suggests remedies; it is also added to ``result.warnings``.

        References
        ----------
        Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on
        weighted residuals. Biometrika 81(3), 515-526.
        """
        if transform in self._ph:
            return self._ph[transform]
        s = self._state
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
        alpha = self.meta["alpha"]
        bad = table[(table["term"] != "GLOBAL") & (table["p_value"] < alpha)]
        if len(bad):
            names = ", ".join(f"{t} (p={p:.3g})" for t, p in zip(bad["term"], bad["p_value"]))
            msg = (
                f"Proportional hazards rejected at alpha={alpha:g} for {names}: the hazard ratio changes "
                "with tenure. Remedies: stratify on the covariate (strata=[...]), split the follow-up time "
                "into periods with separate effects, or model a time-varying coefficient; "
                "read its Schoenfeld residual plot."
            )
            _warn(msgs, msg, ProportionalHazardsWarning)
            if msg not in self.warnings:
                self.warnings.append(msg)
        res = PHTestResult(
            table,
            {
                "n": self.meta["n"],
                "events": self.meta["events"],
                "alpha": alpha,
                "transform": transform,
                "method": "score test (R survival::cox.zph)",
                "coefficients": dict(zip(s["terms"], map(float, s["beta"]))),
            },
            tables={"residuals": resid},
            warnings=msgs,
        )
        self._ph[transform] = res
        return res

    # -------------------------------------------------------------------------------------------
    def predict_linear(self, data: Any) -> np.ndarray:
        """Linear predictor ``x @ beta`` (centred at the fitting data's means) for new customers."""
        frame, _ = _resolve_frame(data)
        s = self._state
        X = _new_design(frame, s)
        return (X - s["means"]) @ s["beta"]

    def predict_survival(
        self, data: Any, times: Sequence[float], *, chunk_size: int = 100_000
    ) -> pd.DataFrame:
        """Predicted survival ``S(t | x) = exp(-H0_s(t) exp(x @ beta))`` at ``times`` for each row of ``data``.

        Uses the Breslow (or, with Efron ties, the Efron-corrected) baseline cumulative hazard of
        R ``survfit.coxph``; rows are processed in chunks of ``chunk_size``. With strata, ``data``
        must hold the strata columns. Returns a DataFrame with one column per time, index as ``data``.
        """
        frame, _ = _resolve_frame(data)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        if times.size == 0 or not np.all(np.isfinite(times)) or (times < 0).any():
            raise ParameterError(f"`times` must be non-negative finite numbers, got {list(times)}.")
        s = self._state
        base = self.baseline_cumulative_hazard_
        if s["strata_cols"]:
            _check_columns(frame, s["strata_cols"], argument="strata")
            keys = frame[s["strata_cols"]].astype(str).agg("|".join, axis=1).to_numpy()
            unknown = sorted(set(keys) - set(base["stratum"]))
            if unknown:
                raise ParameterError(
                    f"strata {unknown[:5]} were not in the fitting data; "
                    f"known strata: {sorted(base['stratum'].unique())[:10]}."
                )
        else:
            keys = np.full(len(frame), "all")
        H = {}
        for key, b in base.groupby("stratum"):
            idx = np.searchsorted(b["time"].to_numpy(), times, side="right") - 1
            ch = b["cumulative_hazard"].to_numpy()
            H[key] = np.where(idx >= 0, ch[np.clip(idx, 0, None)], 0.0)
        out = np.empty((len(frame), times.size))
        for start in range(0, len(frame), chunk_size):
            sl = slice(start, start + chunk_size)
            lp = self.predict_linear(frame.iloc[sl])
            Hc = (
                np.vstack([H[k] for k in keys[sl]])
                if len(set(keys[sl])) > 1
                else np.tile(H[keys[sl][0]], (len(lp), 1))
                if len(lp)
                else np.empty((0, times.size))
            )
            out[sl] = np.exp(-Hc * np.exp(lp)[:, None])
        return pd.DataFrame(out, index=frame.index, columns=times)

    def plot(self, ax=None, **kwargs):
        """Forest plot of the hazard ratios with their confidence intervals."""
        from ..plotting.cox import plot_forest

        return plot_forest(self, ax=ax, **kwargs)


def _new_design(frame: pd.DataFrame, s: dict) -> np.ndarray:
    _check_columns(frame, s["covariates"], argument="data")
    cols = []
    for cov, level in zip(s["term_covariate"], s["term_level"]):
        if level is not None:
            cols.append((frame[cov] == level).to_numpy(dtype=float))
        else:
            cols.append(pd.to_numeric(frame[cov], errors="coerce").to_numpy(dtype=float))
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0))


# ================================================================================================
# public functions
# ================================================================================================
def fit_cox(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    covariates: Sequence[str],
    reference: dict | None = None,
    strata: Sequence[str] | str | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    penalizer: float = 0.0,
    alpha: float = 0.05,
    max_iter: int = 50,
) -> CoxResult:
    """Fit a Cox proportional-hazards model of churn.

    Parameters
    ----------
    data : Dataset or DataFrame
        One row per customer.
    duration_col, event_col : str, optional
        Tenure and churned (0/1) columns; default from ``data.spec`` (``tenure``, ``event``).
    covariates : list of str
        Columns to model. Numeric columns enter as they are; categorical columns (``object``,
        ``category``, ``bool``) are dummy-coded, one term ``"<column>[<level>]"`` per non-reference
        level.
    reference : dict, optional
        ``{column: level}``: the reference level of a categorical covariate. Default: the first
        category of a ``category`` column (its declared order), ``False`` for a ``bool`` column and
        the most frequent level of an ``object`` column (ties broken alphabetically).
    strata : str or list of str, optional
        Columns whose combinations get separate baseline hazards (R ``strata()``).
    cluster_col : str, optional
        Cluster identifier: standard errors become the cluster-robust sandwich of R
        ``coxph(..., cluster=)`` (Lin & Wei 1989).
    weights_col : str, optional
        Non-negative case weights (R ``weights=``). Without ``cluster_col`` the model-based variance
        is reported, as R does.
    ties : {'efron', 'breslow'}
        Handling of tied tenures.
    penalizer : float
        Ridge penalty ``0.5 * n * penalizer * sum((beta_j * sd_j)^2)`` on the standardised scale
        (lifelines' ``CoxPHFitter(penalizer=...)`` convention); 0 = none. Standard errors are then
        the inverse of the penalised information.
    alpha : float
        ``1 - alpha`` confidence intervals; also the level of the proportional-hazards check.
    max_iter : int
        Newton-Raphson iterations before a :class:`ConvergenceWarning` (R ``iter.max``).

    Returns
    -------
    CoxResult
        ``.summary`` (term, covariate, estimate, se, hazard_ratio, ci_lower, ci_upper, statistic,
        p_value), ``.meta`` (n, events, alpha, ties, concordance, loglik, aic, exclusions, method,
        ...), ``.ph_test()``, ``.predict_survival()``, ``.plot()``.

    Raises
    ------
    ParameterError
        Unknown columns, an unknown reference level, bad ``ties`` / ``alpha`` / ``penalizer``.
    DataValidationError
        Negative tenure, a non-binary event column, negative weights.
    ModelError
        No events, or no estimable term.

    Warns
    -----
    RowsExcludedWarning, CollinearityWarning, ConvergenceWarning, SeparationWarning, SmallSampleWarning
        Each also listed in ``result.warnings``.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=2_000, seed=1)
    >>> res = fit_cox(ds, covariates=["contract", "monthly_charge"])
    >>> list(res.summary["term"])
    ['contract[one_year]', 'contract[two_year]', 'monthly_charge']

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. JRSS B 34(2), 187-220.
    Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA 72, 557-565.
    Lin, D. Y. & Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
    JASA 84, 1074-1078.
    Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model. Springer.
    """
    return _fit_cox(
        data,
        duration_col=duration_col,
        event_col=event_col,
        covariates=covariates,
        reference=reference,
        strata=strata,
        cluster_col=cluster_col,
        weights_col=weights_col,
        ties=ties,
        penalizer=penalizer,
        alpha=alpha,
        max_iter=max_iter,
    )


def cause_specific_cox(
    data: Any,
    *,
    cause: Any,
    cause_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    covariates: Sequence[str],
    reference: dict | None = None,
    strata: Sequence[str] | str | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    penalizer: float = 0.0,
    alpha: float = 0.05,
    max_iter: int = 50,
) -> CoxResult:
    """Cause-specific Cox model: churn from ``cause`` is the event, every other cause is censored.

    Parameters are those of :func:`fit_cox`, plus ``cause`` (a value of ``cause_col``) and
    ``cause_col`` (default ``data.spec.churn_type``). A customer counts as an event when
    ``event_col == 1`` and ``cause_col == cause``.

    Raises
    ------
    ParameterError
        ``cause`` never occurs among the churners (the message lists the causes present).

    References
    ----------
    Prentice, R. L. et al. (1978). The analysis of failure times in the presence of competing risks.
    Biometrics 34(4), 541-554.
    """
    frame, spec = _resolve_frame(data)
    cause_col = _column(frame, spec, cause_col, argument="cause_col", role="churn_type")
    event_col = _column(frame, spec, event_col, argument="event_col", role="event")
    ev = frame[event_col]
    churned = pd.to_numeric(ev, errors="coerce") == 1
    present = frame.loc[churned, cause_col].dropna()
    counts = present.astype(str).value_counts()
    if str(cause) not in counts.index:
        raise ParameterError(
            f"`cause` {cause!r} never occurs among the churners in {cause_col!r}; causes present: "
            f"{dict(counts)}. Pass one of these."
        )
    new = frame.copy()
    flag = "__cause_event__"
    new[flag] = (churned & (frame[cause_col].astype(str) == str(cause))).astype(int)
    res = _fit_cox(
        new,
        duration_col=_column(frame, spec, duration_col, argument="duration_col", role="tenure"),
        event_col=flag,
        covariates=covariates,
        reference=reference,
        strata=strata,
        cluster_col=cluster_col,
        weights_col=weights_col,
        ties=ties,
        penalizer=penalizer,
        alpha=alpha,
        max_iter=max_iter,
    )
    res.meta["cause"] = cause
    res.meta["method"] = (
        f"cause-specific Cox ({res.meta['ties']} ties), cause {cause!r}; other causes censored"
    )
    res.title = f"Cause-specific Cox model: {cause}"
    return res


@_single_thread
def _fit_cox(
    data,
    *,
    duration_col,
    event_col,
    covariates,
    reference,
    strata,
    cluster_col,
    weights_col,
    ties,
    penalizer,
    alpha,
    max_iter=50,
) -> CoxResult:
    frame, spec = _resolve_frame(data)
    alpha = _check_alpha(alpha)
    if ties not in TIES:
        raise ParameterError(f"`ties` must be one of {TIES}, got {ties!r}.")
    try:
        penalizer = float(penalizer)
    except (TypeError, ValueError):
        penalizer = float("nan")
    if not (penalizer >= 0 and math.isfinite(penalizer)):
        raise ParameterError(
            f"`penalizer` must be a number >= 0, got {penalizer!r}; 0 means no penalty."
        )
    if isinstance(covariates, str):
        covariates = [covariates]
    if not isinstance(covariates, Sequence) or len(covariates) == 0:
        raise ParameterError(
            f"`covariates` must be a non-empty list of column names, got {covariates!r}."
        )
    covariates = list(dict.fromkeys(covariates))
    duration_col = _column(frame, spec, duration_col, argument="duration_col", role="tenure")
    event_col = _column(frame, spec, event_col, argument="event_col", role="event")
    _check_columns(frame, covariates, argument="covariates")
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    _check_columns(frame, strata_cols, argument="strata")
    overlap = set(strata_cols) & set(covariates)
    if overlap:
        raise ParameterError(
            f"{sorted(overlap)} appear in both `covariates` and `strata`; a stratified "
            "variable has no hazard ratio. Keep it in one of the two."
        )
    if cluster_col is not None:
        _check_columns(frame, [cluster_col], argument="cluster_col")
    if weights_col is not None:
        _check_columns(frame, [weights_col], argument="weights_col")

    messages: list[str] = []
    exclusions: list[dict] = []
    n_received = len(frame)
    used = [duration_col, event_col, *covariates, *strata_cols, cluster_col, weights_col]
    frame = _drop_missing(frame, used, messages, exclusions)
    if len(frame) == 0:
        raise ModelError(
            "no rows left after excluding missing values; check the covariates for missing data."
        )
    time = _duration_array(frame, duration_col)
    event = _event_array(frame, event_col)
    if weights_col is not None:
        w = pd.to_numeric(frame[weights_col], errors="coerce").to_numpy(dtype=float)
        if (~np.isfinite(w)).any() or (w < 0).any():
            raise DataValidationError(
                f"`weights_col` {weights_col!r} must be finite and >= 0; found "
                f"{int(((~np.isfinite(w)) | (w < 0)).sum())} bad value(s).",
                column=weights_col,
                rule="non_negative",
            )
    else:
        w = np.ones(len(frame))
    n_events = int(event.sum())
    if n_events == 0:
        raise ModelError(
            f"no events: every customer is censored in {event_col!r} (n={len(frame):,}); "
            "a Cox model needs churners. Check the event column or the cause."
        )
    strata_codes = None
    strata_keys = None
    if strata_cols:
        strata_keys = frame[strata_cols].astype(str).agg("|".join, axis=1).to_numpy()
        uniq, strata_codes = np.unique(strata_keys, return_inverse=True)

    design = _build_design(frame, covariates, reference)
    design = _drop_degenerate(design, strata_codes, messages)
    if not design.terms:
        raise ModelError(
            f"no estimable term left among covariates {covariates}; see the warnings above."
        )
    p = len(design.terms)
    if n_events / p < MIN_EVENTS_PER_PARAMETER:
        _warn(
            messages,
            f"Only {n_events} events for {p} model terms ({n_events / p:.1f} per term, fewer than "
            f"{MIN_EVENTS_PER_PARAMETER}): estimates may be biased and intervals too narrow. Use "
            "fewer covariates or merge categories.",
            SmallSampleWarning,
        )
    means = design.X.mean(axis=0)
    Xc = design.X - means
    fit = _fit_coefficients(
        Xc,
        time,
        event,
        weights=w,
        strata=strata_codes,
        ties=ties,
        penalizer=penalizer,
        max_iter=max_iter,
    )
    if not fit.converged:
        _warn(
            messages,
            f"The Cox fit did not converge after {fit.n_iter} Newton steps; estimates are not "
            "reliable. Check for covariates with extreme values or separation; try a penalizer.",
            ConvergenceWarning,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            naive_var = linalg.inv(fit.information)
    except linalg.LinAlgError as exc:
        raise ModelError(
            "the information matrix is singular; a covariate is collinear or perfectly "
            "separates churners; remove it or set a penalizer."
        ) from exc
    # monotone likelihood (R coxph.fit's check): one more Newton step would still move the coefficient
    _, U_unpen, info_unpen = _loglik_score_info(fit.strata, fit.beta)
    n_rows = len(time)
    sd2 = Xc.var(axis=0, ddof=1) if n_rows > 1 else np.zeros(p)
    with np.errstate(invalid="ignore"):
        infs = np.abs(naive_var @ (U_unpen - penalizer * n_rows * sd2 * fit.beta))
        eps = 1e-9
        bad = (infs > eps) & (infs > math.sqrt(eps) * np.abs(fit.beta))
        big = np.abs(fit.beta) * np.sqrt(sd2) > 8
        huge_se = ~(np.sqrt(np.diag(naive_var)) < 10 * np.abs(fit.beta))
    flagged = np.flatnonzero((bad | (big & huge_se)) & fit.converged)
    for j in flagged:
        _warn(
            messages,
            f"Monotone likelihood for {design.terms[j]!r}: its coefficient ({fit.beta[j]:.3g}) is "
            "heading to +/- infinity, typically because churn occurs only (or never) in one group. "
            "Its hazard ratio and interval are not usable; merge levels, drop it or set a penalizer.",
            SeparationWarning,
        )
    var = naive_var
    # R coxph: robust (sandwich) variance with a cluster, and also with non-integer case weights
    noninteger_weights = bool(np.any(w != np.floor(w)))
    robust = cluster_col is not None or noninteger_weights
    if robust:
        resid = _score_residuals(fit.strata, fit.beta, len(time)) * w[:, None]
        dfbeta = resid @ naive_var
        cl = (
            pd.factorize(frame[cluster_col])[0] if cluster_col is not None else np.arange(len(time))
        )
        collapsed = _group_sum(dfbeta, cl, int(cl.max()) + 1)
        var = collapsed.T @ collapsed
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(var))  # NaN only for a flagged monotone-likelihood term
    z = stats.norm.ppf(1 - alpha / 2)
    beta = fit.beta
    summary = pd.DataFrame(
        {
            "term": design.terms,
            "covariate": design.term_covariate,
            "estimate": beta,
            "se": se,
            "hazard_ratio": np.exp(beta),
            "ci_lower": np.exp(beta - z * se),
            "ci_upper": np.exp(beta + z * se),
            "statistic": beta / se,
            "p_value": 2 * stats.norm.sf(np.abs(beta / se)),
        }
    )
    # baseline cumulative hazard (at the covariate means), per stratum
    base_rows = []
    for k, st in enumerate(fit.strata):
        sm = _stratum_sums(st, beta)
        hw = np.bincount(st.k_group, weights=st.k_mult / sm.den, minlength=len(st.ev_groups))
        tms = st.g_time[st.ev_groups][::-1]
        key = "all" if strata_keys is None else str(uniq[np.unique(strata_codes)[k]])
        base_rows.append(
            pd.DataFrame({"stratum": key, "time": tms, "cumulative_hazard": np.cumsum(hw[::-1])})
        )
    baseline = pd.concat(base_rows, ignore_index=True)
    lp = Xc @ beta
    concordance = _concordance(time, event, lp, strata_codes, w)
    loglik = fit.loglik
    meta = {
        "n": int(len(frame)),
        "events": n_events,
        "alpha": alpha,
        "ties": ties,
        "method": f"Cox proportional hazards ({ties} ties"
        + (", stratified" if strata_cols else "")
        + (", cluster-robust SE" if cluster_col is not None else ", robust SE" if robust else "")
        + (f", ridge penalty {penalizer:g}" if penalizer else "")
        + ")",
        "concordance": concordance,
        "loglik": loglik,
        "loglik_null": fit.loglik_null,
        "aic": -2 * loglik + 2 * p,
        "lr_statistic": 2 * (loglik - fit.loglik_null),
        "lr_df": p,
        "lr_p_value": float(stats.chi2.sf(2 * (loglik - fit.loglik_null), p)),
        "exclusions": exclusions,
        "n_received": n_received,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
        "strata": strata_cols,
        "n_strata": len(fit.strata),
        "cluster_col": cluster_col,
        "n_clusters": int(frame[cluster_col].nunique()) if cluster_col is not None else None,
        "variance": "robust sandwich" if robust else "model-based (inverse information)",
        "weights_col": weights_col,
        "penalizer": penalizer,
        "reference_levels": {c: v["reference"] for c, v in design.levels.items()},
        "dropped_terms": design.dropped,
        "duration_col": duration_col,
        "event_col": event_col,
    }
    if hasattr(data, "fingerprint"):
        meta["fingerprint"] = data.fingerprint
    state = {
        "beta": beta,
        "var": var,
        "naive_var": naive_var,
        "info_unpenalized": info_unpen,
        "terms": design.terms,
        "term_covariate": design.term_covariate,
        "levels": design.levels,
        "term_level": design.term_level,
        "covariates": covariates,
        "means": means,
        "strata_obj": fit.strata,
        "time": time,
        "event": event,
        "baseline": baseline,
        "strata_cols": strata_cols,
    }
    return CoxResult(summary, meta, warnings=messages, fit_state=state)


def _concordance(
    time: np.ndarray,
    event: np.ndarray,
    lp: np.ndarray,
    strata: np.ndarray | None,
    weights: np.ndarray,
) -> float:
    """Harrell's C (pairs within strata, weighted by ``w_i * w_j``; tied predictions count 1/2).

    A pair is comparable when the shorter tenure ends in churn; a customer censored at the same
    tenure as a churner counts as having stayed longer (R ``concordance``'s convention). Vectorised,
    O(n log^2 n): for each churner, the weight of customers still at risk with a lower / equal risk
    score comes from an offline dominance count (:func:`_earlier_lower_weight`).
    """
    codes = np.zeros(len(time), dtype=int) if strata is None else strata
    conc = tied = pairs = 0.0
    for s in np.unique(codes):
        idx = codes == s
        t, e, x, w = time[idx], event[idx] > 0, lp[idx], weights[idx]
        if not e.any():
            continue
        rank = stats.rankdata(x, method="dense").astype(np.int64)
        te, re, we = t[e], rank[e], w[e]
        # A: weight at risk (T_j >= t_i) with rank_j < rank_i, and with rank_j <= rank_i
        both = _earlier_lower_weight(t, rank, w, np.r_[te, te], np.r_[re, re + 1])
        below, below_eq = both[: len(te)], both[len(te) :]
        # B: the same among the churners at exactly t_i (not comparable with i)
        ev = pd.DataFrame({"t": te, "r": re, "w": we})
        per = ev.groupby(["t", "r"], sort=True)["w"].sum()
        cum = per.groupby(level="t").cumsum()
        b_eq = cum.reindex(pd.MultiIndex.from_arrays([te, re])).to_numpy()
        b_lt = b_eq - per.reindex(pd.MultiIndex.from_arrays([te, re])).to_numpy()
        # total at risk and churner weight at each churn time
        ut, inv = np.unique(t, return_inverse=True)
        w_at = np.bincount(inv, weights=w)
        at_risk = np.cumsum(w_at[::-1])[::-1]
        w_ev = np.bincount(inv, weights=w * e)
        pos = np.searchsorted(ut, te)
        conc += float(we @ (below - b_lt))
        tied += float(we @ ((below_eq - below) - (b_eq - b_lt)))
        pairs += float(we @ (at_risk[pos] - w_ev[pos]))
    return float((conc + 0.5 * tied) / pairs) if pairs else float("nan")


def _earlier_lower_weight(
    t: np.ndarray, y: np.ndarray, w: np.ndarray, tq: np.ndarray, yq: np.ndarray
) -> np.ndarray:
    """For each query ``(tq, yq)``: the summed ``w`` of points with ``t >= tq`` and ``y < yq``.

    Points and queries are put in one sequence (time descending, points before queries at equal
    time); a query then needs the points before it with a smaller ``y``. Level ``L`` of a binary
    split of the sequence pairs each query in a right half-block with the points of the left
    half-block, answered for all blocks at once by one sort and ``searchsorted`` on
    ``(block, y)`` keys; every earlier point is counted at exactly one level.
    """
    n_p, n_q = len(t), len(tq)
    tt = np.r_[t, tq]
    isq = np.r_[np.zeros(n_p, dtype=bool), np.ones(n_q, dtype=bool)]
    order = np.lexsort((isq, -tt))
    yy = np.r_[y, yq].astype(np.int64)[order]
    ww = np.r_[w, np.zeros(n_q)][order]
    qq = isq[order]
    m = len(tt)
    span = int(yy.max()) + 2
    pos = np.arange(m, dtype=np.int64)
    out = np.zeros(m)
    level = 0
    while (1 << level) < m:
        block = pos >> level
        parent = block >> 1
        left = np.flatnonzero(((block & 1) == 0) & ~qq)
        right = np.flatnonzero(((block & 1) == 1) & qq)
        if left.size and right.size:
            # one sort of points and queries by (block, y), queries first at equal keys (strict <)
            ck = np.r_[
                (parent[left] * span + yy[left]) * 2 + 1, (parent[right] * span + yy[right]) * 2
            ]
            o = np.argsort(ck)
            cum = np.cumsum(np.r_[ww[left], np.zeros(right.size)][o])
            at = np.empty(ck.size)
            at[o] = cum
            upto = at[left.size :]  # weight of left points with a smaller (block, y) key
            # minus the weight of left points in earlier parent blocks
            pw = np.cumsum(
                np.bincount(parent[left], weights=ww[left], minlength=int(parent[-1]) + 1)
            )
            pq = parent[right]
            before = np.where(pq > 0, pw[np.maximum(pq - 1, 0)], 0.0)
            out[right] += upto - before
        level += 1
    res = np.empty(m)
    res[order] = out
    return res[n_p:]
