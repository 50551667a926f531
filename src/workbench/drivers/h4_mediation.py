"""H4: does satisfaction act partly through perceived value? Mediation on the log-hazard scale.

Mediator model (OLS): ``perceived_value ~ a * satisfaction + switching-cost index + covariates``.
Outcome model (Cox): ``log h = c' * satisfaction + b * perceived_value + index + covariates``.
With a linear mediator model and a Cox outcome model the natural indirect effect on the log
hazard ratio scale is ``a * b`` and the natural direct effect is ``c'`` (VanderWeele 2011, exact
when the outcome is rare, a good approximation otherwise); the total is their sum and the
proportion mediated is ``a b / (c' + a b)``. CIs come from the quasi-Bayesian simulation of Imai,
Keele & Tingley (2010) (the algorithm of statsmodels' ``Mediation``): draw ``a`` and ``(b, c')`` from
the normal approximations of the two fits and take percentiles of the derived effects. The p-value
of the indirect effect is the delta-method (Sobel) test.

References
----------
VanderWeele, T. J. (2011). Causal mediation analysis with survival data. *Epidemiology* 22, 582-585.
Imai, K., Keele, L. and Tingley, D. (2010). A general approach to causal mediation analysis.
*Psychological Methods* 15, 309-334.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..results import Result
from .design import build_design
from .fitting import Prepared, fit_view
from .terms import _check_alpha, meta_of, prepare

EFFECTS = ("indirect", "direct", "total", "proportion_mediated")


class MediationResult(Result):
    """Indirect, direct and total effects of satisfaction and the proportion mediated.

    ``summary`` columns: ``effect``, ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``statistic``,
    ``p_value``. Empty (with ``meta['reason']``) when the data have no perceived-value column.
    ``tables['paths']``: the ``a`` (satisfaction -> perceived value) and ``b`` (perceived value ->
    log hazard) paths.
    """

    title = "Mediation through perceived value (H4)"
    key = "effect"

    @property
    def available(self) -> bool:
        return len(self.summary) > 0

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_mediation

        return plot_mediation(self, ax=ax, **kwargs)


def mediation_analysis(
    data,
    *,
    alpha: float = 0.05,
    n_draws: int = 4000,
    seed: int = 0,
    firth="auto",
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    perceived_value_col=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
) -> MediationResult:
    """Mediation of satisfaction's effect on churn through perceived value (see module docstring).

    Effects are per one-point higher satisfaction on the log hazard ratio scale (negative = less
    churn). Without a perceived-value column the result is empty and says why (no error).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> res = mediation_analysis(load_dataset("synthetic", n_customers=3000, seed=1))
    >>> list(res.summary["effect"])
    ['indirect', 'direct', 'total', 'proportion_mediated']
    """
    _check_alpha(alpha)
    dd = prepare(
        data,
        duration_col=duration_col,
        event_col=event_col,
        satisfaction_col=satisfaction_col,
        switching_cost_cols=switching_cost_cols,
        perceived_value_col=perceived_value_col,
        covariates=covariates,
        cluster_col=cluster_col,
        satisfaction_scale=satisfaction_scale,
    )
    cols = ["effect", "estimate", "se", "ci_lower", "ci_upper", "statistic", "p_value"]
    if not dd.perceived_value_col:
        reason = (
            "the data have no perceived-value column (no `perceived_value` role in the spec and no "
            "`perceived_value_col`): H4 (mediation) cannot be tested on these data."
        )
        return MediationResult(
            pd.DataFrame(columns=cols),
            {"n": dd.n, "alpha": alpha, "reason": reason, "method": "not available"},
            warnings=[reason],
        )
    sink = list(dd.warnings)
    X, g, info = build_design(dd, satisfaction_form="linear", perceived_value=True)
    # mediator model: OLS of perceived value on everything else in the design
    M = dd.frame[dd.perceived_value_col].to_numpy(float)
    Zm = np.column_stack([np.ones(dd.n), X.drop(columns=["perceived_value"]).to_numpy(float)])
    beta_m, *_ = np.linalg.lstsq(Zm, M, rcond=None)
    resid = M - Zm @ beta_m
    sigma2 = resid @ resid / (dd.n - Zm.shape[1])
    cov_m = sigma2 * np.linalg.inv(Zm.T @ Zm)
    a, se_a = beta_m[1], float(np.sqrt(cov_m[1, 1]))  # column 1 = sat_linear
    prep = Prepared(dd, "cox")
    vf = fit_view(
        prep,
        X,
        info,
        firth=firth,
        alpha=alpha,
        label="Cox outcome model with perceived value",
        sink=sink,
    )
    ib, ic = vf.fit.index("perceived_value"), vf.fit.index("sat_linear")
    b, cdir = vf.fit.params_[ib], vf.fit.params_[ic]
    V = vf.fit.cov_[np.ix_([ib, ic], [ib, ic])]
    rng = np.random.default_rng(seed)
    ad = rng.normal(a, se_a, n_draws)
    bc = rng.multivariate_normal([b, cdir], V, n_draws)
    ind, dirc = ad * bc[:, 0], bc[:, 1]
    tot = dirc + ind
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = ind / tot
    point = {
        "indirect": a * b,
        "direct": cdir,
        "total": cdir + a * b,
        "proportion_mediated": a * b / (cdir + a * b),
    }
    draws = {"indirect": ind, "direct": dirc, "total": tot, "proportion_mediated": prop}
    se_ind = float(np.sqrt(b**2 * se_a**2 + a**2 * V[0, 0]))
    rows = []
    for eff in EFFECTS:
        dr = draws[eff][np.isfinite(draws[eff])]
        lo, hi = np.quantile(dr, [alpha / 2, 1 - alpha / 2])
        se = se_ind if eff == "indirect" else float(np.std(dr))
        stat = point[eff] / se if eff != "proportion_mediated" else np.nan
        p = 2 * stats.norm.sf(abs(stat)) if eff != "proportion_mediated" else np.nan
        rows.append(
            {
                "effect": eff,
                "estimate": point[eff],
                "se": se,
                "ci_lower": lo,
                "ci_upper": hi,
                "statistic": stat,
                "p_value": p,
            }
        )
    paths = pd.DataFrame(
        [
            {
                "path": "a: satisfaction -> perceived value (OLS, per point)",
                "estimate": a,
                "se": se_a,
            },
            {
                "path": "b: perceived value -> log hazard (Cox, per unit)",
                "estimate": b,
                "se": float(np.sqrt(V[0, 0])),
            },
            {
                "path": "c': satisfaction -> log hazard, direct (Cox, per point)",
                "estimate": cdir,
                "se": float(np.sqrt(V[1, 1])),
            },
        ]
    )
    if abs(point["total"]) < 2 * float(np.std(tot)):
        msg = (
            "the total effect is close to zero relative to its uncertainty: the proportion mediated is "
            "unstable and should not be interpreted."
        )
        sink.append(msg)
    meta = meta_of(
        dd,
        **{
            "n": dd.n,
            "events": dd.events,
            "alpha": alpha,
            "n_draws": n_draws,
            "seed": seed,
            "scale": "log hazard ratio per satisfaction point",
            "method": (
                "product of coefficients a*b (OLS mediator, "
                + ("Firth-penalised " if vf.firth else "")
                + "Cox outcome), quasi-Bayesian simulation CIs, Sobel p-value"
            ),
            "mediator": dd.perceived_value_col,
            "fingerprint": dd.fingerprint,
        },
    )
    return MediationResult(
        pd.DataFrame(rows, columns=cols),
        meta,
        tables={"paths": paths},
        warnings=list(dict.fromkeys(sink)),
    )
