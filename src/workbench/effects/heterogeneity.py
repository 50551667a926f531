"""For whom does the intervention work? Effects by segment with an interaction test, and a Qini curve.

Subgroup effects are (weighted) differences in means of KM pseudo-values computed once on each
arm-vs-control population: the pseudo-value of a customer has the customer's conditional survival as
its expectation under covariate-independent censoring, so any covariate-defined subgroup can be
averaged without refitting a curve. Weights are the study's balancing weights (held fixed; for a
randomised study they are 1). The interaction test is Cochran's Q: ``sum (theta_g - theta_bar)^2 / v_g``
on ``G - 1`` degrees of freedom, ``theta_bar`` the inverse-variance weighted mean.

The uplift (Qini) curve ranks customers by a cross-fitted T-learner (per-arm Cox models on the
confounders, two folds: each half is scored by models fitted on the other half) and plots the
incremental retained customers at the horizon among the top fraction targeted.

References
----------
Andersen, P. K. & Perme, M. P. (2010). Pseudo-observations in survival analysis. Stat Methods Med
Res 19, 71-99.
Radcliffe, N. J. (2007). Using control groups to target on predicted lift: building and assessing
uplift models. Direct Marketing Analytics Journal 1, 14-21.
Cochran, W. G. (1954). The combination of estimates from different experiments. Biometrics 10, 101-129.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ParameterError, SmallSampleWarning
from ..results import Result
from .outcome import fit_outcome
from .pseudo import pseudo_values

MIN_PER_ARM = 20


class HeterogeneityResult(Result):
    """Effects by segment: arm, segment, level, estimand, horizon, n, estimate, se, ci_lower, ci_upper.

    ``tables['interaction']``: arm, segment, estimand, statistic (Cochran's Q), df, p_value.
    """

    title = "Effects by segment"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_hte

        return plot_hte(self, ax=ax, **kwargs)


class UpliftResult(Result):
    """Qini curve of a cross-fitted T-learner: summary arm, horizon, qini_coefficient, ...;
    ``tables['curve']``: arm, fraction, qini, random."""

    title = "Uplift (Qini) curve"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_qini

        return plot_qini(self, ax=ax, **kwargs)


def default_segments(study, spec=None) -> dict[str, pd.Series]:
    """Segment variables from the spec: segment, the first switching cost, satisfaction band."""
    f = study.frame_
    out = {}
    if spec is not None:
        if spec.segment and spec.segment in f:
            out[spec.segment] = f[spec.segment].astype(str)
        for c in spec.switching_costs[:1]:
            if c in f and c != spec.segment:
                out[f"switching cost: {c}"] = f[c].astype(str)
        if spec.satisfaction and spec.satisfaction in f:
            lo, hi = spec.satisfaction_scale or (
                f[spec.satisfaction].min(),
                f[spec.satisfaction].max(),
            )
            mid = (lo + hi) / 2
            s = f[spec.satisfaction]
            out["satisfaction band"] = pd.Series(
                np.where(s < mid, "low", np.where(s > mid, "high", "middle")), index=f.index
            )
    return out


def heterogeneity(
    study,
    by: list[str] | None = None,
    *,
    spec=None,
    weighting: str | None = None,
    horizon: float | None = None,
    trim: float | None = None,
) -> HeterogeneityResult:
    """Survival difference at ``horizon`` and RMST difference by segment, with an interaction test.

    Parameters
    ----------
    study : InterventionStudy
    by : list of str, optional
        Columns to segment by (default: :func:`default_segments` of ``spec``).
    spec : RoleSpec, optional
    weighting : {'ipw', 'overlap', 'none'}, optional
        Default: 'none' for randomised, 'ipw' for observational studies.
    horizon : float, optional
        Default: the study's middle horizon.
    """
    weighting = weighting or ("none" if study.design == "randomised" else "ipw")
    horizon = float(horizon if horizon is not None else study.horizons[len(study.horizons) // 2])
    f = study.frame_
    if by:
        missing = [c for c in by if c not in f.columns]
        if missing:
            raise ParameterError(f"`by`: column(s) {missing} not in the data.")
        segs = {c: f[c].astype(str) for c in by}
    else:
        segs = default_segments(study, spec)
    if not segs:
        raise ParameterError(
            "no segments: pass `by=[...]` columns or a spec with segment / switching_costs / "
            "satisfaction roles."
        )
    z = stats.norm.ppf(1 - study.alpha / 2)
    if weighting != "none":
        study.weights(weighting, trim=trim)
    rows, tests, caveats = [], [], []
    for arm in study.arms_:
        sub = study._pair(arm)
        d, e, t = study._arrays(sub, arm)
        P, _ = pseudo_values(d, e, [horizon], study.tau)
        w = study._weights_cache[arm] if weighting != "none" else np.ones(len(t))
        for name, lab in segs.items():
            labels = lab.loc[sub.index].to_numpy()
            est_by = {0: [], 1: []}
            for level in sorted(pd.unique(labels)):
                g = labels == level
                n1, n0 = int((g & (t == 1)).sum()), int((g & (t == 0)).sum())
                if min(n1, n0) < MIN_PER_ARM:
                    caveats.append(
                        f"segment {name}='{level}' ({arm}): {n1} vs {n0} customers; skipped "
                        f"(fewer than {MIN_PER_ARM} per arm)."
                    )
                    continue
                for k, estimand in enumerate(["survival_difference", "rmst_difference"]):
                    theta, se = _weighted_diff(P[g, k], t[g], w[g])
                    rows.append(
                        {
                            "arm": arm,
                            "segment": name,
                            "level": level,
                            "estimand": estimand,
                            "horizon": horizon if k == 0 else study.tau,
                            "n": int(g.sum()),
                            "estimate": theta,
                            "se": se,
                            "ci_lower": theta - z * se,
                            "ci_upper": theta + z * se,
                            "method": weighting,
                        }
                    )
                    est_by[k].append((theta, se))
            for k, estimand in enumerate(["survival_difference", "rmst_difference"]):
                if len(est_by[k]) >= 2:
                    th = np.array([x[0] for x in est_by[k]])
                    v = np.array([x[1] for x in est_by[k]]) ** 2
                    bar = np.sum(th / v) / np.sum(1 / v)
                    q = float(np.sum((th - bar) ** 2 / v))
                    dfree = len(th) - 1
                    tests.append(
                        {
                            "arm": arm,
                            "segment": name,
                            "estimand": estimand,
                            "statistic": q,
                            "df": dfree,
                            "p_value": float(stats.chi2.sf(q, dfree)),
                        }
                    )
    for c in caveats:
        warnings.warn(c, SmallSampleWarning, stacklevel=2)
    return HeterogeneityResult(
        pd.DataFrame(rows),
        study._meta(method=f"pseudo-values, {weighting} weights", horizon=horizon),
        tables={"interaction": pd.DataFrame(tests)},
        warnings=caveats,
    )


def _weighted_diff(p, t, w):
    """Hajek difference of weighted means and its influence-function SE (weights held fixed)."""
    out = []
    phis = []
    n = len(p)
    for a in (1, 0):
        m = t == a
        wa = w * m
        mu = np.sum(wa * p) / np.sum(wa)
        phis.append(n * wa * (p - mu) / np.sum(wa))
        out.append(mu)
    phi = phis[0] - phis[1]
    return out[0] - out[1], float(np.sqrt(np.var(phi, ddof=1) / n))


def uplift(
    study,
    *,
    horizon: float | None = None,
    weighting: str | None = None,
    seed: int = 0,
    bins: int = 50,
) -> UpliftResult:
    """Qini curve for targeting the intervention, from a cross-fitted per-arm Cox T-learner.

    The predicted uplift of a customer is ``S(h | x, arm) - S(h | x, control)``; the observed outcome is
    the KM pseudo-value at the horizon (so censoring is handled) and, for observational studies, each
    customer counts with the study's balancing weight. The Qini coefficient is the mean height of the
    curve above the random-targeting line, per customer of the population. The T-learner enters the
    confounders linearly whatever the study's specification: it only ranks customers, and a
    flexible per-arm model on half the data ranks them less stably.
    """
    if not study.confounders:
        raise ParameterError("uplift needs `confounders` (the features of the T-learner).")
    weighting = weighting or ("none" if study.design == "randomised" else "ipw")
    horizon = float(horizon if horizon is not None else study.horizons[len(study.horizons) // 2])
    if weighting != "none":
        study.weights(weighting)
    rng = np.random.default_rng(seed)
    rows, curve, caveats = [], [], []
    for arm in study.arms_:
        sub = study._pair(arm)
        d, e, t = study._arrays(sub, arm)
        X, _ = study._pair_design(arm, "linear")  # a ranking score: the linear T-learner
        Xc = X[:, 1:]
        n = len(t)
        fold = rng.permutation(np.arange(n) % 2)
        score = np.empty(n)
        for k in (0, 1):
            tr, te = fold != k, fold == k
            pred = []
            for a in (1, 0):
                m = tr & (t == a)
                keep = Xc[m].std(axis=0) > 1e-12
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    fit = fit_outcome(d[m], e[m], Xc[m][:, keep])
                for w in caught:
                    msg = f"uplift T-learner ({arm}, fold {k}, arm {a}): {w.message}"
                    if msg not in caveats:
                        caveats.append(msg)
                        warnings.warn(msg, w.category, stacklevel=2)
                pred.append(fit.survival(Xc[te][:, keep], [horizon])[:, 0])
            score[te] = pred[0] - pred[1]
        P, _ = pseudo_values(d, e, [horizon], None)
        y = P[:, 0]
        w = study._weights_cache[arm] if weighting != "none" else np.ones(n)
        order = np.argsort(-score, kind="stable")
        tw, cw = (w * t)[order], (w * (1 - t))[order]
        cum_t, cum_c = np.cumsum(tw * y[order]), np.cumsum(cw * y[order])
        n_t, n_c = np.cumsum(tw), np.cumsum(cw)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(n_c > 0, cum_t - cum_c * n_t / n_c, 0.0) / n
        frac = np.arange(1, n + 1) / n
        rand = frac * q[-1]
        coef = float(np.mean(q - rand))
        top = max(1, n // 5)
        lift_top = float(
            np.sum(tw[:top] * y[order][:top]) / np.sum(tw[:top])
            - np.sum(cw[:top] * y[order][:top]) / np.sum(cw[:top])
        )
        rows.append(
            {
                "arm": arm,
                "horizon": horizon,
                "qini_coefficient": coef,
                "uplift_top20": lift_top,
                "uplift_all": float(q[-1] * n / n_t[-1]) if n_t[-1] else np.nan,
                "n": n,
                "method": f"cross-fitted Cox T-learner, {weighting} weights",
            }
        )
        pick = np.unique(np.linspace(0, n - 1, bins + 1).astype(int))
        curve.append(
            pd.DataFrame(
                {
                    "arm": arm,
                    "fraction": np.concatenate([[0.0], frac[pick]]),
                    "qini": np.concatenate([[0.0], q[pick]]),
                    "random": np.concatenate([[0.0], rand[pick]]),
                }
            )
        )
    return UpliftResult(
        pd.DataFrame(rows),
        study._meta(method="Qini curve", horizon=horizon, seed=seed),
        tables={"curve": pd.concat(curve, ignore_index=True)},
        warnings=caveats,
    )
