"""Fit one design under one censoring-aware outcome view, checking separation first.

Outcome views (``outcome=``):

``'cox'``
    Cox proportional hazards on time to churn (Breslow ties).
``'discrete'``
    Discrete-time logistic hazard on person-period data (one row per customer and month at risk;
    baseline hazard piecewise constant over period bands).
``'horizon'``
    Churned by ``horizon`` (1) versus retained past it (0), among customers whose status at the
    horizon is known, weighted by inverse probability of censoring (``horizon_method='ipcw'``, the
    default; sandwich SEs) or unweighted (``'known'``).

Coefficients are on the scale "higher = more churn" in every view (log hazard ratio, log odds of
the discrete-time hazard, log odds of churn by the horizon).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ModelError, ParameterError, SeparationWarning, SmallSampleWarning
from .design import DriverData
from .models import ModelFit, fit_cox, fit_logistic
from .outcomes import horizon_outcome, period_bands, person_period
from .profile import profile_ci
from .separation import (
    EXTREME_KIND,
    SEPARATION_COLUMNS,
    SeparationResult,
    combine,
    detect_extreme_values,
    detect_monotone_likelihood,
    detect_separation,
)

OUTCOMES = ("cox", "discrete", "horizon")
MIN_EPP = 10.0
MIN_CLUSTERS = 20
_DIVERGED = 15.0

OUTCOME_LABELS = {
    "cox": "Cox model, log hazard ratio",
    "discrete": "discrete-time logistic hazard, log odds",
    "horizon": "churn by {h} months (IPCW logistic), log odds",
}


def outcome_label(
    outcome: str, horizon: float, horizon_method: str = "ipcw", unit: str = "months"
) -> str:
    """The view's name and the scale of its coefficients ("log hazard ratio" / "log odds")."""
    if outcome == "horizon":
        how = "IPCW" if horizon_method == "ipcw" else "known status"
        u = unit[:-1] if horizon == 1 and unit.endswith("s") else unit
        return f"churn by {horizon:g} {u} ({how} logistic), log odds"
    return OUTCOME_LABELS[outcome]


def check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ParameterError(f"`outcome` must be one of {OUTCOMES}, got {outcome!r}.")


@dataclass
class ViewFit:
    """A fitted design with the data it was fitted on (enough to predict and to refit nested models)."""

    fit: ModelFit
    outcome: str
    terms: list
    firth: bool
    separation: SeparationResult
    warnings: list = field(default_factory=list)
    X: pd.DataFrame | None = None  # the customer-level design (no intercept)
    label: str = ""

    def coef(self, term):
        j = self.fit.index(term)
        return self.fit.params_[j], self.fit.se_[j]


def _warn(msg, cls, sink):
    warnings.warn(msg, cls, stacklevel=4)
    sink.append(msg)


class Prepared:
    """Outcome arrays of one view, computed once and reused across designs."""

    def __init__(
        self, dd: DriverData, outcome: str, horizon: float = 12.0, horizon_method: str = "ipcw"
    ):
        check_outcome(outcome)
        self.dd, self.outcome, self.horizon, self.horizon_method = (
            dd,
            outcome,
            horizon,
            horizon_method,
        )
        f = dd.frame
        t = f[dd.duration_col].to_numpy(float)
        e = f[dd.event_col].to_numpy(int)
        self.time, self.event = t, e
        self.clusters = f[dd.cluster_col].to_numpy() if dd.cluster_col else None
        if outcome == "horizon":
            ho = horizon_outcome(t, e, horizon, horizon_method)
            self.keep = ho["known"].to_numpy()
            self.y = 1 - ho["retained"].to_numpy()[self.keep]
            self.w = ho["weight"].to_numpy()[self.keep]
            self.n_unknown = int((~self.keep).sum())
            self.events = float(self.y.sum())
        elif outcome == "discrete":
            # person-period rows, collapsed without loss to (customer, period band) binomial counts:
            # the hazard is constant within a band, so the likelihood is the same
            pp = person_period(t, e)
            base = period_bands(pp["period"].to_numpy(), pp["event"].to_numpy())
            band = (
                base.to_numpy() @ (np.arange(base.shape[1]) + 1)
                if base.shape[1]
                else np.zeros(len(pp))
            )
            key = pd.DataFrame(
                {
                    "row": pp["row"].to_numpy(),
                    "band": band.astype(int),
                    "event": pp["event"].to_numpy(),
                }
            )
            agg = (
                key.groupby(["row", "band"], sort=False)["event"].agg(["size", "sum"]).reset_index()
            )
            ones = agg[agg["sum"] > 0]
            zeros = agg[agg["size"] > agg["sum"]]
            self.rows = np.r_[ones["row"].to_numpy(), zeros["row"].to_numpy()]
            bands = np.r_[ones["band"].to_numpy(), zeros["band"].to_numpy()]
            self.y = np.r_[np.ones(len(ones)), np.zeros(len(zeros))]
            self.w = np.r_[
                ones["sum"].to_numpy(float), (zeros["size"] - zeros["sum"]).to_numpy(float)
            ]
            self.base = pd.DataFrame(
                {c: (bands == j + 1).astype(float) for j, c in enumerate(base.columns)}
            )
            self.n_person_periods = len(pp)
            self.events = float(pp["event"].sum())
        else:
            self.events = float(e.sum())
        self.label = outcome_label(outcome, horizon, horizon_method, dd.time_unit)


def view_separation(
    prep: Prepared, X: pd.DataFrame, term_info: dict, *, model: str, action: str, extremes: bool
) -> SeparationResult:
    """Separation / monotone likelihood of design ``X`` in ``prep``'s outcome view, and (``extremes``)
    the numeric switching costs and covariates whose top / bottom value all churned or all stayed."""
    if prep.outcome == "cox":
        sep = detect_monotone_likelihood(
            X, prep.time, prep.event, term_info=term_info, model=model, action=action
        )
        y = prep.event
    elif prep.outcome == "horizon":
        sep = detect_separation(
            X.loc[prep.keep] if len(X) == len(prep.keep) else X,
            prep.y,
            term_info=term_info,
            model=model,
            action=action,
        )
        y = np.full(len(prep.keep), np.nan)
        y[prep.keep] = prep.y
    else:
        base = prep.base.reset_index(drop=True)
        Xpp = pd.concat(
            [base, pd.DataFrame(X.to_numpy()[prep.rows], columns=list(X.columns))], axis=1
        )
        sep = detect_separation(
            Xpp,
            prep.y,
            weights=prep.w,
            term_info=term_info,
            model=model,
            action=action,
            lp_max_cells=0,
        )
        y = prep.event
    if not extremes:
        return sep
    dd = prep.dd
    ext = detect_extreme_values(
        dd.frame,
        [*dd.switching_cost_cols, *dd.covariates],
        y,
        model=model,
        action="named; the estimate stays finite (the variable enters as a number)",
    )
    return combine([sep, ext]) if ext.found else sep


def fit_view(
    prep: Prepared,
    X: pd.DataFrame,
    term_info: dict,
    *,
    firth="auto",
    alpha: float = 0.05,
    profile_terms=(),
    label: str = "",
    check_epp: bool = True,
    check_separation: bool = True,
    sink: list | None = None,
) -> ViewFit:
    """Fit the design ``X`` under ``prep``'s outcome view.

    ``firth='auto'`` checks for separation / monotone likelihood first and switches to the
    Firth-penalised fit (with a :class:`SeparationWarning` naming the variable and levels) when
    found, or when the ordinary fit diverges; ``True`` / ``False`` force the choice.
    """
    sink = [] if sink is None else sink
    n_par = X.shape[1] + (1 if prep.outcome != "cox" else 0)
    if prep.outcome == "discrete":
        n_par += prep.base.shape[1]
    if prep.events <= n_par + 1:
        raise ModelError(
            f"too few events for the model: {prep.events:,.0f} churn events for {n_par} parameters "
            f"({prep.label}). Use fewer covariates (`covariates=[]`), satisfaction as linear, or more data."
        )
    if check_epp and prep.clusters is not None:
        n_cl = len(pd.unique(prep.clusters))
        if n_cl < MIN_CLUSTERS:
            _warn(
                f"only {n_cl} clusters in `cluster_col`={prep.dd.cluster_col!r}: cluster-robust standard errors "
                f"are unreliable (too small, tests too liberal) with fewer than about {MIN_CLUSTERS} clusters. "
                "Treat the p-values as approximate or use a column with more clusters.",
                SmallSampleWarning,
                sink,
            )
    epp = prep.events / n_par
    if check_epp and epp < MIN_EPP:
        _warn(
            f"only {epp:.1f} events per parameter ({prep.events:,.0f} events, {n_par} parameters) in "
            f"{label or prep.label}: estimates may be biased and CIs too narrow (rule of thumb: at least "
            f"{MIN_EPP:g}). Consider fewer covariates or satisfaction as linear.",
            SmallSampleWarning,
            sink,
        )
    action = "Firth-penalised fit with profile penalised-likelihood CIs"
    names = list(X.columns)
    if check_separation:
        sep = view_separation(
            prep, X, term_info, model=label or prep.label, action=action, extremes=check_epp
        )
    else:
        sep = SeparationResult(pd.DataFrame(columns=list(SEPARATION_COLUMNS)), {})
    use_firth = bool(firth) if firth != "auto" else sep.infinite

    def run(use_f):
        if prep.outcome == "cox":
            return fit_cox(
                X.to_numpy(float),
                prep.time,
                prep.event,
                firth=use_f,
                names=names,
                clusters=prep.clusters,
            )
        if prep.outcome == "horizon":
            Z = np.column_stack([np.ones(int(prep.keep.sum())), X.to_numpy(float)[prep.keep]])
            cl = prep.clusters[prep.keep] if prep.clusters is not None else None
            return fit_logistic(
                Z,
                prep.y,
                weights=prep.w,
                firth=use_f,
                names=["(Intercept)", *names],
                clusters=cl,
                robust=prep.horizon_method == "ipcw",
            )
        Z = np.column_stack(
            [np.ones(len(prep.y)), prep.base.to_numpy(), X.to_numpy(float)[prep.rows]]
        )
        cl = prep.clusters[prep.rows] if prep.clusters is not None else None
        return fit_logistic(
            Z,
            prep.y,
            weights=prep.w,
            firth=use_f,
            names=["(Intercept)", *prep.base.columns, *names],
            clusters=cl,
        )

    fit = run(use_firth)
    if firth == "auto" and not use_firth:
        big = [
            n
            for n in fit.names
            if n != "(Intercept)" and abs(fit.params_[fit.index(n)]) > _DIVERGED
        ]
        if big or not fit.converged:
            rows = [
                {
                    "model": label or prep.label,
                    "variable": term_info.get(n, (n, None))[0],
                    "levels": str(term_info.get(n, (n, None))[1] or ""),
                    "kind": "diverging estimate (numerical)",
                    "terms": n,
                    "direction": "+inf" if fit.params_[fit.index(n)] > 0 else "-inf",
                    "action": action,
                }
                for n in big
            ] or [
                {
                    "model": label or prep.label,
                    "variable": "(the model as a whole)",
                    "levels": "",
                    "kind": f"no convergence in {fit.n_iter} iterations",
                    "terms": "",
                    "direction": "",
                    "action": action,
                }
            ]
            sep = SeparationResult(
                pd.concat([sep.summary, pd.DataFrame(rows)], ignore_index=True), sep.meta
            )
            use_firth = True
            fit = run(True)
    infinite = sep.summary[sep.summary["kind"] != EXTREME_KIND] if sep.found else sep.summary
    model = label or prep.label
    if len(infinite):
        desc = "; ".join(
            f"{r['variable']}"
            + (f" (levels {r['levels']})" if r["levels"] else "")
            + f": {r['kind']}"
            for r in infinite.to_dict(orient="records")
        )
        if use_firth:
            how = "switched to automatically" if firth == "auto" else "requested with firth=True"
            _warn(
                f"{model}: separation / monotone likelihood detected ({desc}); the maximum-likelihood "
                f"estimates are infinite, so the Firth-penalised fit is reported ({how}; finite "
                "estimates, profile penalised-likelihood CIs, penalised likelihood-ratio tests).",
                SeparationWarning,
                sink,
            )
        else:
            _warn(
                f"{model}: separation / monotone likelihood detected ({desc}) but firth=False: the "
                "maximum-likelihood estimates are infinite and the reported ones are where the "
                "iterations stopped. Use firth='auto' or True.",
                SeparationWarning,
                sink,
            )
    extreme = sep.summary[sep.summary["kind"] == EXTREME_KIND] if sep.found else sep.summary
    for r in extreme.to_dict(orient="records"):
        _warn(
            f"{model}: every customer at the {r['levels']} of '{r['variable']}': that value "
            "separates the outcome. The variable enters the model as a number, so its estimate "
            "stays finite, but nothing in the data says how such customers behave otherwise; "
            "consider merging the value with its neighbour.",
            SeparationWarning,
            sink,
        )
    if use_firth:
        prof = list(
            dict.fromkeys(
                [*profile_terms, *[t for r in infinite["terms"] for t in str(r).split(", ") if t]]
            )
        )
        prof = [t for t in prof if t in fit.names]
        if prof:
            profile_ci(fit, prof, alpha)
    return ViewFit(fit, prep.outcome, names, use_firth, sep, sink, X, label or prep.label)
