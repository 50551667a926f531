"""H1: does higher satisfaction go with higher retention, and is the effect non-linear?

The family test of H1 (one point of satisfaction, linear) is in :mod:`workbench.drivers.family`; this
module gives its form: satisfaction as categories, linear and as a natural cubic spline, the tests of
non-linearity and the predicted retention by satisfaction level.

Non-linearity tests are likelihood-ratio tests inside the larger model: the spline model with its
non-linear terms fixed at 0, and the categorical model written as ``linear + deviations`` (one
indicator per level other than the reference and the top level) with the deviations fixed at 0. Under
Firth both fits carry the larger model's penalty (Heinze & Schemper 2002), so the penalised LR test is
a proper test; unpenalised, the statistic equals the usual LR test of the linear model against the
larger one.

References
----------
Harrell, F. E. (2015). *Regression Modeling Strategies*, 2nd ed., Springer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..results import Result
from .design import build_design
from .fitting import Prepared, check_outcome, fit_view
from .separation import combine
from .terms import (
    _check_alpha,
    design_at,
    meta_of,
    prepare,
    retention_ci,
    standardised_prediction,
    term_test,
)


class NonlinearityResult(Result):
    """Satisfaction as categories / linear / spline: LR tests of non-linearity and predicted retention.

    ``summary``: one row per test (``comparison``, ``statistic``, ``df``, ``p_value``, ``method``).
    ``tables``: ``models`` (log-likelihood, parameters, AIC), ``levels`` (log hazard ratio of each
    level against the reference), ``predicted`` (retention at the horizon by satisfaction, CIs).
    """

    title = "Satisfaction: form of the effect"

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_satisfaction_form

        return plot_satisfaction_form(self, ax=ax, **kwargs)


def satisfaction_form(
    data,
    *,
    horizon: float = 12,
    outcome: str = "cox",
    alpha: float = 0.05,
    spline_df: int = 3,
    horizon_method: str = "ipcw",
    firth="auto",
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
) -> NonlinearityResult:
    """Satisfaction as categories, linear and natural cubic spline; LR tests of non-linearity.

    All three models adjust for the switching-cost index and the covariates. The tests compare the
    linear model with the categorical one (``levels - 2`` df) and with the spline (``spline_df - 1``
    df). When any of them needs the Firth penalty all three are penalised (penalised LR tests).
    Predicted retention at ``horizon`` by satisfaction level comes from the retained-at-horizon view
    (IPCW logistic, categorical satisfaction), standardised over the analysis sample, with
    delta-method CIs on the logit scale.

    Returns
    -------
    NonlinearityResult

    References
    ----------
    Harrell, F. E. (2015). *Regression Modeling Strategies*, 2nd ed., Springer.
    """
    _check_alpha(alpha)
    check_outcome(outcome)
    dd = prepare(
        data,
        duration_col=duration_col,
        event_col=event_col,
        satisfaction_col=satisfaction_col,
        switching_cost_cols=switching_cost_cols,
        covariates=covariates,
        cluster_col=cluster_col,
        satisfaction_scale=satisfaction_scale,
    )
    sink = list(dd.warnings)
    prep = Prepared(dd, outcome, horizon, horizon_method)
    designs = {
        form: build_design(dd, satisfaction_form=form, spline_df=spline_df)
        for form in ("categorical", "linear", "spline")
    }
    cat = fit_view(
        prep,
        designs["categorical"][0],
        designs["categorical"][2],
        firth=firth,
        alpha=alpha,
        label=f"{prep.label}, satisfaction categorical",
        sink=sink,
    )
    use_f = cat.firth if firth == "auto" else firth
    fits = {"categorical": cat}
    for form in ("linear", "spline"):
        fits[form] = fit_view(
            prep,
            designs[form][0],
            designs[form][2],
            firth=use_f,
            alpha=alpha,
            label=f"{prep.label}, satisfaction {form}",
            sink=sink,
            check_epp=False,
        )
    rows = []
    n_lev = len(dd.levels)
    for form, df in (("categorical", n_lev - 2), ("spline", spline_df - 1)):
        if df < 1:
            continue
        big = fits[form]
        sat_terms = designs[form][1]["satisfaction"]
        if form == "spline":
            t = term_test(big, [s for s in sat_terms if s != "sat_linear"])
        elif big.fit.robust:  # categorical vs linear: Wald test of the deviations from a line
            stat, d, p = _wald_nonlinear(
                big.fit, sat_terms, [lv for lv in dd.levels if lv != dd.ref_level], dd.ref_level
            )
            t = {"statistic": stat, "df": d, "p_value": p, "test": "robust Wald"}
        else:  # the categorical model as linear + deviations; the deviations fixed at 0
            Xd, dev = _linear_plus_deviations(dd, designs["linear"][0])
            vd = fit_view(
                prep,
                Xd,
                {**designs["linear"][2], **{c: (dd.satisfaction_col, c[8:]) for c in dev}},
                firth=big.firth,
                alpha=alpha,
                label=f"{prep.label}, satisfaction linear + deviations",
                sink=[],
                check_epp=False,
                check_separation=False,
            )
            t = term_test(vd, dev)
        rows.append(
            {
                "comparison": f"{form} vs linear",
                "statistic": t["statistic"],
                "df": t["df"],
                "p_value": t["p_value"],
                "method": f"{t['test']} test of non-linearity ({prep.label})",
            }
        )
    models = pd.DataFrame(
        [
            {
                "form": k,
                "loglik": v.fit.loglik_,
                "n_parameters": len(v.fit.names),
                "aic": -2 * v.fit.loglik_ + 2 * len(v.fit.names),
                "firth": v.firth,
            }
            for k, v in fits.items()
        ]
    )
    levels = cat.fit.table(alpha)
    levels = levels[levels["term"].isin(designs["categorical"][1]["satisfaction"])].reset_index(
        drop=True
    )
    levels.insert(0, "level", [int(t.split("_")[1]) for t in levels["term"]])
    # predicted retention (probability scale) from the retained-at-horizon view
    hprep = prep if outcome == "horizon" else Prepared(dd, "horizon", horizon, horizon_method)
    hfit = (
        cat
        if outcome == "horizon"
        else fit_view(
            hprep,
            designs["categorical"][0],
            designs["categorical"][2],
            firth=firth,
            alpha=alpha,
            label=f"{hprep.label}, satisfaction categorical",
            sink=sink,
            check_epp=False,
        )
    )
    z = stats.norm.ppf(1 - alpha / 2)
    pred = []
    for lv in dd.levels:
        Xcf = design_at(dd, "categorical", sat_value=lv)
        m, g = standardised_prediction(hfit, Xcf)
        r, se, lo, hi = retention_ci(m, g, hfit.fit.cov_, z)
        pred.append({"satisfaction": lv, "retention": r, "se": se, "ci_lower": lo, "ci_upper": hi})
    meta = meta_of(
        dd,
        **{
            "n": dd.n,
            "events": dd.events,
            "alpha": alpha,
            "method": prep.label,
            "horizon": horizon,
            "time_unit": dd.time_unit,
            "reference_level": dd.ref_level,
            "spline_df": spline_df,
            "firth": cat.firth,
            "fingerprint": dd.fingerprint,
        },
    )
    sep = combine([cat.separation, hfit.separation])
    return NonlinearityResult(
        pd.DataFrame(rows),
        meta,
        tables={
            "models": models,
            "levels": levels,
            "predicted": pd.DataFrame(pred),
            "separation": sep.summary,
        },
        warnings=list(dict.fromkeys(sink)),
    )


def _wald_nonlinear(fit, sat_terms, levels, ref):
    """Robust Wald test that the level effects lie on a line through the reference level."""
    idx = [fit.index(t) for t in sat_terms]
    b = fit.params_[idx]
    V = fit.cov_[np.ix_(idx, idx)]
    x = np.asarray(levels, float) - ref
    # contrasts orthogonal to x: residual-maker
    P = np.eye(len(x)) - np.outer(x, x) / (x @ x)
    U, s, _ = np.linalg.svd(P)
    C = U[:, s > 1e-9].T
    cb = C @ b
    stat = float(cb @ np.linalg.solve(C @ V @ C.T, cb))
    return stat, C.shape[0], float(stats.chi2.sf(stat, C.shape[0]))


def _linear_plus_deviations(dd, X_linear: pd.DataFrame):
    """The categorical satisfaction model re-parametrised as ``sat_linear`` + one indicator per level
    other than the reference and the top level (the same column space as the level indicators)."""
    top = max(dd.levels)
    dev = [lv for lv in dd.levels if lv not in (dd.ref_level, top)]
    sat = dd.sat
    cols = {f"sat_dev_{lv}": (sat == lv).astype(float) for lv in dev}
    X = pd.concat([X_linear, pd.DataFrame(cols, index=X_linear.index)], axis=1)
    return X, list(cols)


def _wald_nonlinear(fit, sat_terms, levels, ref):
    """Robust Wald test that the level effects lie on a line through the reference level."""
    idx = [fit.index(t) for t in sat_terms]
    b = fit.params_[idx]
    V = fit.cov_[np.ix_(idx, idx)]
    x = np.asarray(levels, float) - ref
    # contrasts orthogonal to x: residual-maker
    P = np.eye(len(x)) - np.outer(x, x) / (x @ x)
    U, s, _ = np.linalg.svd(P)
    C = U[:, s > 1e-9].T
    cb = C @ b
    stat = float(cb @ np.linalg.solve(C @ V @ C.T, cb))
    return stat, C.shape[0], float(stats.chi2.sf(stat, C.shape[0]))


__all__ = ["NonlinearityResult", "satisfaction_form"]
