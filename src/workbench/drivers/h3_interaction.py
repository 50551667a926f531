"""H3: do switching costs weaken the effect of dissatisfaction? The interaction on three scales.

``dissat_x_sc = (ref - satisfaction) * sc_index`` (see :mod:`workbench.drivers.design`): its log hazard
ratio (Cox; likelihood-ratio test inside the model with the coefficient fixed at 0, penalised with the
full model's penalty under Firth), its log odds of churn by the horizon (IPCW logistic) and the
difference-in-differences of predicted retention (probability scale), with the marginal effects at
low / medium / high switching cost.

References
----------
Ai, C. and Norton, E. C. (2003). Interaction terms in logit and probit models. *Economics
Letters* 80, 123-129.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ParameterError
from ..results import Result
from .design import build_design
from .fitting import Prepared, fit_view
from .separation import combine
from .terms import (
    _check_alpha,
    coef_row,
    design_at,
    meta_of,
    method_label,
    prepare,
    retention_ci,
    standardised_prediction,
    term_test,
)


class InteractionResult(Result):
    """H3 moderation: the interaction on three scales, its LR test and the marginal effects.

    ``summary``: ``scale``, ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``statistic``,
    ``p_value``, ``method``. ``tables``: ``marginal_effects`` (predicted retention at the horizon by
    satisfaction at low / medium / high switching cost with CIs), ``lr_test``.
    """

    title = "Switching costs x satisfaction (H3)"
    key = "scale"

    def plot(self, ax=None, **kwargs):
        from ..plotting.drivers import plot_marginal_effects

        return plot_marginal_effects(self, ax=ax, **kwargs)


def interaction_effects(
    data,
    *,
    horizon: float = 12,
    alpha: float = 0.05,
    horizon_method: str = "ipcw",
    quantiles=(0.1, 0.5, 0.9),
    firth="auto",
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
) -> InteractionResult:
    """H3 on three scales, its LR test, and predicted retention across satisfaction at low / medium /
    high switching cost.

    Models: satisfaction as categories + switching-cost index + ``dissat_x_sc`` + covariates, fitted
    as a Cox model (log hazard ratio; LR test against the model without the interaction) and as the
    retained-at-horizon IPCW logistic model (log odds of churn; marginal effects). Predicted
    retention at ``horizon`` is standardised over the analysis sample with satisfaction set to each
    level and the index set to its ``quantiles`` (low / medium / high), with delta-method CIs. The
    interaction on the probability scale is the difference-in-differences
    ``[R(top, high) - R(bottom, high)] - [R(top, low) - R(bottom, low)]`` of retention between the
    highest and lowest satisfaction levels at high versus low switching cost (negative under H3).

    References
    ----------
    Ai, C. and Norton, E. C. (2003). Interaction terms in logit and probit models. *Economics
    Letters* 80, 123-129.
    """
    _check_alpha(alpha)
    if len(quantiles) != 3:
        raise ParameterError(
            f"`quantiles` must give low, medium and high switching cost, got {quantiles!r}."
        )
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
    z = stats.norm.ppf(1 - alpha / 2)
    X, g, info = build_design(dd, satisfaction_form="categorical", interaction=True)
    cprep = Prepared(dd, "cox", horizon, horizon_method)
    cB = fit_view(
        cprep,
        X,
        info,
        firth=firth,
        alpha=alpha,
        profile_terms=("dissat_x_sc",),
        label="Cox model with interaction",
        sink=sink,
    )
    lr = term_test(cB, ["dissat_x_sc"])
    hprep = Prepared(dd, "horizon", horizon, horizon_method)
    hB = fit_view(
        hprep,
        X,
        info,
        firth=firth,
        alpha=alpha,
        profile_terms=("dissat_x_sc",),
        label=f"{hprep.label} with interaction",
        sink=sink,
        check_epp=False,
    )
    rows = []
    for vf, scale in (
        (cB, "log hazard ratio (Cox)"),
        (hB, f"log odds of churn by {horizon:g} {dd.time_unit}"),
    ):
        c = coef_row(vf, "dissat_x_sc", alpha)
        rows.append(
            {
                "scale": scale,
                **{k: c[k] for k in ("estimate", "se", "ci_lower", "ci_upper")},
                "statistic": c["estimate"] / c["se"],
                "p_value": 2 * stats.norm.sf(abs(c["estimate"] / c["se"])),
                "method": method_label(vf, "Wald") + f"; CI {c['ci_method']}",
            }
        )
    qs = np.quantile(dd.sc_index, quantiles)
    names = ("low", "medium", "high")
    me, grads = [], {}
    for name, q, qv in zip(names, quantiles, qs):
        for lv in dd.levels:
            Xcf = design_at(dd, "categorical", sat_value=lv, sc_value=qv, interaction=True)
            m, gr = standardised_prediction(hB, Xcf)
            r, se, lo, hi = retention_ci(m, gr, hB.fit.cov_, z)
            grads[(name, lv)] = (r, -gr)
            me.append(
                {
                    "switching_cost": name,
                    "sc_quantile": q,
                    "sc_index": qv,
                    "satisfaction": lv,
                    "retention": r,
                    "se": se,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
    top, bottom = max(dd.levels), min(dd.levels)
    did = (grads[("high", top)][0] - grads[("high", bottom)][0]) - (
        grads[("low", top)][0] - grads[("low", bottom)][0]
    )
    gd = (grads[("high", top)][1] - grads[("high", bottom)][1]) - (
        grads[("low", top)][1] - grads[("low", bottom)][1]
    )
    se_did = float(np.sqrt(max(gd @ hB.fit.cov_ @ gd, 0)))
    rows.append(
        {
            "scale": f"retention probability at {horizon:g} {dd.time_unit}: difference-in-differences "
            f"(satisfaction {top} vs {bottom}, high vs low switching cost)",
            "estimate": did,
            "se": se_did,
            "ci_lower": did - z * se_did,
            "ci_upper": did + z * se_did,
            "statistic": did / se_did,
            "p_value": 2 * stats.norm.sf(abs(did / se_did)),
            "method": "delta method, standardised predictions from the IPCW logistic model",
        }
    )
    lr_tab = pd.DataFrame([{"term": "dissat_x_sc", **lr, "method": method_label(cB, lr["test"])}])
    meta = meta_of(
        dd,
        **{
            "n": dd.n,
            "events": dd.events,
            "alpha": alpha,
            "method": "Cox and IPCW logistic",
            "horizon": horizon,
            "time_unit": dd.time_unit,
            "firth_cox": cB.firth,
            "firth_logistic": hB.firth,
            "sc_quantiles": dict(zip(names, qs.tolist())),
            "interaction_test": {
                "statistic": lr["statistic"],
                "df": lr["df"],
                "p_value": lr["p_value"],
                "method": method_label(cB, lr["test"]),
            },
            "fingerprint": dd.fingerprint,
        },
    )
    sep = combine([cB.separation, hB.separation])
    return InteractionResult(
        pd.DataFrame(rows),
        meta,
        tables={"marginal_effects": pd.DataFrame(me), "lr_test": lr_tab, "separation": sep.summary},
        warnings=list(dict.fromkeys(sink)),
    )


__all__ = ["InteractionResult", "interaction_effects"]
