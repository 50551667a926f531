"""The checking stage of an :class:`~workbench.effects.InterventionStudy`: propensity models, the
design check (arms, events, follow-up, positivity), balancing weights and covariate balance.

The methods live on :class:`StudyChecks`, a base class of the study.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import (
    DataValidationError,
    ExtrapolationWarning,
    ExtremeWeightsWarning,
    ModelError,
    ParameterError,
    PositivityWarning,
    ResidualImbalanceWarning,
    SmallSampleWarning,
)
from ..results import Result
from .balance import (
    FLAG_ALPHA,
    MATERIAL_SMD,
    SMD_THRESHOLD,
    BalanceResult,
    balance_columns,
    calibration_table,
    distribution_terms,
    ks_critical,
    smd,
    weighted_difference_z,
    weighted_ks,
)
from .propensity import PropensityResult, fit_propensity, fit_propensity_gbm
from .specification import _level_index
from .weights import (
    balancing_weights,
    check_trim,
    check_weighting,
    extreme_weight_messages,
    positivity_messages,
    weight_summary,
)

MIN_EVENTS_PER_ARM = 10
CALIBRATION_ALPHA = 0.01  # Hosmer-Lemeshow: flag only strong evidence of miscalibration


class DesignCheckResult(Result):
    """Arms, customers, events and follow-up per arm; positivity and balance of the declared design.

    ``summary``: group, n, events, event_share, median_followup, max_followup, propensity_min,
    propensity_max. ``tables['balance']``: balance before weighting (if confounders).
    """

    title = "Study design check"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_overlap

        return plot_overlap(self, ax=ax, **kwargs)  # a sentence when there are no scores


class WeightsResult(Result):
    """Weight distribution per contrast and group: n, sum, mean, min, max, effective sample size,
    share of the weight carried by the top 1% of customers."""

    title = "Balancing weights"


class StudyChecks:
    """Propensity, design check, weights and balance of a declared study (mixed into the study)."""

    # ---------------------------------------------------------------------------------------- check
    def _check_positivity_exact(self, arm: str) -> None:
        sub = self._pair(arm)
        t = sub["_arm"] == arm
        for term in self.specification_().terms:
            c = term.column
            if term.kind == "category":
                s = sub[c].astype(str)
            elif term.kind == "levels":  # a number entered as categories: its (pooled) levels
                idx = _level_index(sub[c].to_numpy(dtype=float), term.cuts)
                s = pd.Series(np.asarray(term.levels, dtype=object)[idx], index=sub.index)
            else:
                continue  # numbers enter the model as numbers: only the fitted propensities can tell
            tab = pd.crosstab(s, t)
            for lvl, row in tab.iterrows():
                n_lvl = int(row.sum())
                if n_lvl >= 5 and (row.get(True, 0) == 0 or row.get(False, 0) == 0):
                    only = arm if row.get(False, 0) == 0 else self.control_label_
                    other = self.control_label_ if only == arm else arm
                    raise ModelError(
                        f"positivity violated ({arm} vs {self.control_label_}): all {n_lvl:,} customers with "
                        f"{c}='{lvl}' are in arm '{only}', none in '{other}' (propensity "
                        f"{'1' if only == arm else '0'}). Their effect cannot be estimated: restrict the "
                        f"population (population=\"{c} != '{lvl}'\") or merge that level."
                    )

    def propensity(self) -> PropensityResult:
        """Fit the propensity model of every arm against control (cached)."""
        if not self.confounders:
            raise ParameterError(
                "the study declares no `confounders`: there is no propensity model to fit."
            )
        if "result" in self._ps_cache:
            return self._ps_cache["result"]
        coefs, scores, caveats, rows = [], {}, [], []
        for arm in self.arms_:
            self._check_positivity_exact(arm)
            X, names = self._pair_design(arm)
            sub = self._pair(arm)
            _, _, t = self._arrays(sub, arm)
            folds = None
            if self.specification == "gbm":
                e, folds, cav = fit_propensity_gbm(
                    sub, self.confounders, t, arm=arm, n_folds=self.n_folds, seed=0
                )
                beta, coef = None, pd.DataFrame(columns=["arm", "term", "estimate", "se"])
            else:
                e, coef, beta, cav = fit_propensity(X, t, names, arm=arm, alpha=self.alpha)
            caveats += cav
            tiny = (e < 1e-8) | (e > 1 - 1e-8)
            if tiny.any():
                raise ModelError(
                    f"positivity violated ({arm} vs {self.control_label_}): {int(tiny.sum()):,} customers have a "
                    f"fitted propensity of 0 or 1{_where(sub.loc[tiny], sub, self.confounders)}. Restrict the "
                    "population or drop the confounder that separates the arms."
                )
            for msg in positivity_messages(e, t, sub, self.confounders, arm, self.control_label_):
                self._warn(msg, PositivityWarning, caveats)
            scores[arm] = (e, t, beta, X, folds)
            coefs.append(coef)
            for label, mask in ((arm, t == 1), (self.control_label_, t == 0)):
                q = np.quantile(e[mask], [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1])
                rows.append(
                    {
                        "contrast": f"{arm} vs {self.control_label_}",
                        "group": label,
                        **{
                            f"q{int(p * 100):02d}": v
                            for p, v in zip([0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1], q)
                        },
                    }
                )
        res = PropensityResult(
            pd.concat(coefs, ignore_index=True),
            self._meta(
                method=(
                    f"gradient boosting (scikit-learn), {self.n_folds}-fold cross-fitted scores"
                    if self.specification == "gbm"
                    else "logistic regression (statsmodels GLM)"
                )
                + ", one per arm vs control",
                population="each contrast: customers of the arm and of the control arm",
            ),
            tables={"quantiles": pd.DataFrame(rows)},
            warnings=caveats,
        )
        res.scores_ = {a: (v[0], v[1]) for a, v in scores.items()}
        self._ps_cache["result"] = res
        self._ps_cache["fits"] = scores
        return res

    def _followup_caveats(self, caveats: list[str]) -> None:
        """Warn (ExtrapolationWarning) for every arm whose follow-up ends before a horizon or tau."""
        last = max(self.horizons + [self.tau])
        for label in [self.control_label_] + self.arms_:
            top = float(self.frame_.loc[self.frame_["_arm"] == label, self.duration_col].max())
            if top < last:
                self._warn(
                    f"arm '{label}': follow-up ends at {top:.3g} months, before the largest horizon / "
                    f"tau ({last:g}); the curve is flat beyond it (extrapolation). Choose horizons and "
                    f"tau within {top:.3g} months.",
                    ExtrapolationWarning,
                    caveats,
                )

    def check(self) -> DesignCheckResult:
        """Check the design: arms, events per arm, follow-up; positivity and balance before weighting."""
        rows, caveats = [], list(self.warnings)
        ps = None
        if self.confounders:  # randomised too: chance imbalance and the overlap plot
            ps = self.propensity()
            caveats += [w for w in ps.warnings if w not in caveats]
        for label in [self.control_label_] + self.arms_:
            sub = self.frame_.loc[self.frame_["_arm"] == label]
            ev = int(sub[self.event_col].sum())
            row = {
                "group": label,
                "role": "control" if label == self.control_label_ else "arm",
                "n": len(sub),
                "events": ev,
                "event_share": ev / max(len(sub), 1),
                "median_followup": float(sub[self.duration_col].median()),
                "max_followup": float(sub[self.duration_col].max()),
            }
            rows.append(row)
            if ev < MIN_EVENTS_PER_ARM:
                self._warn(
                    f"arm '{label}' has only {ev} churn events; its survival curve and every contrast with it "
                    "are imprecise.",
                    SmallSampleWarning,
                    caveats,
                )
        self._followup_caveats(caveats)
        tables = {}
        if ps is not None:
            tables["propensity_quantiles"] = ps.tables["quantiles"]
            tables["balance"] = self.balance(weighting="none").summary
            tables["scores"] = _score_table(ps)
        res = DesignCheckResult(
            pd.DataFrame(rows), self._meta(method="design check"), tables=tables, warnings=caveats
        )
        return res

    def _require_events(self) -> None:
        for label in [self.control_label_] + self.arms_:
            ev = int(self.frame_.loc[self.frame_["_arm"] == label, self.event_col].sum())
            if ev == 0:
                raise DataValidationError(
                    f"arm '{label}' of '{self.treatment_col}' has no churn events ('{self.event_col}' is 0 for all "
                    f"{int((self.frame_['_arm'] == label).sum()):,} customers): its survival is 1 throughout and no "
                    "contrast or hazard ratio can be estimated. Check the event column or merge the arm.",
                    column=self.event_col,
                    rule="events_per_arm",
                )

    # ------------------------------------------------------------------------------ weights/balance
    def weights(self, weighting: str = "ipw", *, trim: float | None = None) -> WeightsResult:
        """Balancing weights of every contrast and their distribution (extreme-weight warning)."""
        check_weighting(weighting)
        trim = check_trim(trim)
        rows, caveats = [], []
        self._weights_cache = {}
        for arm in self.arms_:
            sub = self._pair(arm)
            _, _, t = self._arrays(sub, arm)
            if weighting == "none" or not self.confounders:
                e = np.full(len(t), t.mean())
            else:
                e = self._ps(arm)
            w = balancing_weights(e, t, weighting, trim=trim)
            self._weights_cache[arm] = w
            r = weight_summary(w, t, arm, self.control_label_)
            rows += r
            for msg in extreme_weight_messages(r):
                self._warn(msg, ExtremeWeightsWarning, caveats)
        return WeightsResult(
            pd.DataFrame(rows), self._meta(method=weighting, trim=trim), warnings=caveats
        )

    def _ps(self, arm: str) -> np.ndarray:
        self.propensity()
        return self._ps_cache["fits"][arm][0]

    def balance(self, weighting: str = "ipw", *, trim: float | None = None) -> BalanceResult:
        """Balance of the confounders before and after weighting, in a form that sees misspecification.

        ``summary``: standardised mean differences of the confounders (numbers as they are, each
        level of a category), ``balanced`` when ``|SMD| < 0.1``. ``tables['distribution']``: the
        same for the terms a misspecified propensity model leaves unbalanced (each level and
        cumulative level of a low-cardinality number, squares and spline terms of continuous ones,
        pairwise products of the confounders), with the z statistic of the weighted difference; a
        term is ``flagged`` when its weighted difference is detectable at a family-wise 5%
        (Bonferroni over the terms) and ``|SMD| >= 0.02``: with dozens of terms, a size threshold
        alone flags chance differences in small samples and misses real ones in large samples. ``tables['ks']``: weighted
        Kolmogorov-Smirnov distances of the numeric confounders, flagged by the same rule (critical
        value from the effective sample sizes). ``tables['calibration']``: observed share treated
        against the mean propensity by decile (Hosmer-Lemeshow test in ``meta``, flagged at p < 0.01). Any flag is a
        :class:`~workbench.exceptions.ResidualImbalanceWarning` naming the terms;
        ``meta['verdict']`` is ``'balanced'`` or ``'residual imbalance'``.
        """
        from scipy import stats

        check_weighting(weighting)
        if not self.confounders:
            raise ParameterError(
                "the study declares no `confounders`: there is nothing to balance."
            )
        rows, dist_rows, ks_rows, cal_rows, hl = [], [], [], [], {}
        caveats: list[str] = []
        wr = self.weights(weighting, trim=trim) if weighting != "none" else None
        if wr is not None:
            caveats += wr.warnings
        spec = self.specification_()
        for arm in self.arms_:
            contrast = f"{arm} vs {self.control_label_}"
            sub = self._pair(arm)
            _, _, t = self._arrays(sub, arm)
            w = self._weights_cache[arm] if wr is not None else np.ones(len(t))
            B = balance_columns(sub, self.confounders)
            before = smd(B.to_numpy(), t)
            after = smd(B.to_numpy(), t, w) if wr is not None else before
            for c, b, a in zip(B.columns, before, after):
                rows.append(
                    {
                        "contrast": contrast,
                        "covariate": c,
                        "smd_before": b,
                        "smd_after": a,
                        "balanced": bool(abs(a) < SMD_THRESHOLD),
                    }
                )
            D = distribution_terms(sub, spec)
            kinds = D.attrs["kind"]
            Dv = D.to_numpy()
            d_before, d_after = smd(Dv, t), smd(Dv, t, w)
            zs = weighted_difference_z(Dv, t, w)
            zcrit = stats.norm.ppf(1 - FLAG_ALPHA / (2 * max(Dv.shape[1], 1)))
            for c, b, a, zz in zip(D.columns, d_before, d_after, zs):
                flag = abs(a) >= MATERIAL_SMD and abs(zz) > zcrit  # detectable, and not tiny
                dist_rows.append(
                    {
                        "contrast": contrast,
                        "term": c,
                        "kind": kinds[c],
                        "smd_before": b,
                        "smd_after": a,
                        "z_after": zz,
                        "flagged": bool(flag),
                    }
                )
            ess = [w[t == g].sum() ** 2 / np.sum(w[t == g] ** 2) for g in (1, 0)]
            numeric = [tm.column for tm in spec.terms if tm.kind != "category"]
            crit = ks_critical(ess[0], ess[1], FLAG_ALPHA / max(len(numeric), 1))
            for c in numeric:
                x = sub[c].to_numpy(dtype=float)
                kb, ka = weighted_ks(x, t), weighted_ks(x, t, w)
                ks_rows.append(
                    {
                        "contrast": contrast,
                        "covariate": c,
                        "ks_before": kb,
                        "ks_after": ka,
                        "critical": crit,
                        "flagged": bool(ka >= MATERIAL_SMD and ka > crit),
                    }
                )
            if self.design == "observational":
                cal = calibration_table(self._ps(arm), t)
                cal.insert(0, "contrast", contrast)
                cal_rows.append(cal)
                hl[contrast] = dict(cal.attrs)
        df = pd.DataFrame(rows)
        dist = pd.DataFrame(dist_rows)
        ks = pd.DataFrame(ks_rows)
        if wr is not None and (~df["balanced"]).any():
            bad = df.loc[~df["balanced"], "covariate"].tolist()
            caveats.append(
                f"after {weighting} weighting, {len(bad)} covariate(s) keep |SMD| >= {SMD_THRESHOLD}: "
                f"{', '.join(bad[:6])}. Consider specification='flexible' or 'gbm' for the propensity model."
            )
        verdict = "balanced"
        verdicts = {c: "balanced" for c in dict.fromkeys(dist["contrast"])}
        if wr is not None:
            for contrast in dict.fromkeys(dist["contrast"]):
                dd = dist[(dist["contrast"] == contrast) & dist["flagged"]]
                kk = ks[(ks["contrast"] == contrast) & ks["flagged"]] if len(ks) else ks
                if len(dd) or len(kk):
                    verdict = verdicts[contrast] = "residual imbalance"
                    worst = dd.reindex(dd["smd_after"].abs().sort_values(ascending=False).index)
                    terms = [
                        f"{r.term} (SMD {r.smd_after:+.3f})" for r in worst.head(5).itertuples()
                    ]
                    terms += [
                        f"distribution of {r.covariate} (KS {r.ks_after:.3f})"
                        for r in kk.itertuples()
                    ]
                    self._warn(
                        f"residual imbalance after {weighting} weighting ({contrast}), "
                        f"{self.specification} specification: {len(dd) + len(kk)} term(s) stay detectably "
                        f"unbalanced: {'; '.join(terms[:6])}. The propensity model misses part of the "
                        f"confounding, so the weighted effect keeps some of its bias; {_remedy(self)}",
                        ResidualImbalanceWarning,
                        caveats,
                    )
            for contrast, h in hl.items():
                if h["p_value"] < CALIBRATION_ALPHA / max(len(hl), 1):
                    verdict = verdicts[contrast] = "residual imbalance"
                    self._warn(
                        f"propensity model ({contrast}) is miscalibrated: observed shares treated differ "
                        f"from the predicted ones across deciles (Hosmer-Lemeshow {h['statistic']:.1f} on "
                        f"{h['df']} df, p = {h['p_value']:.2g}); {_remedy(self)}",
                        ResidualImbalanceWarning,
                        caveats,
                    )
        return BalanceResult(
            df,
            self._meta(
                method=f"SMD, {weighting} weights",
                threshold=SMD_THRESHOLD,
                verdict=verdict if wr is not None else "before weighting",
                verdicts=verdicts if wr is not None else {},
                calibration=hl,
                flag_rule=(
                    f"|SMD| >= {MATERIAL_SMD} and a weighted difference detectable at a family-wise "
                    f"{FLAG_ALPHA:.0%} (Bonferroni over the terms)"
                ),
            ),
            tables={
                "distribution": dist,
                "ks": ks,
                "calibration": pd.concat(cal_rows, ignore_index=True)
                if cal_rows
                else pd.DataFrame(),
            },
            warnings=caveats,
        )


def _where(sub, frame, confounders) -> str:
    from .weights import describe_where

    return describe_where(sub, frame, confounders)


def _score_table(ps: PropensityResult) -> pd.DataFrame:
    """Propensity scores by contrast and observed arm (no customer ids), for the overlap plot."""
    parts = []
    for arm, (e, t) in ps.scores_.items():
        parts.append(pd.DataFrame({"contrast": arm, "treated": t.astype(int), "propensity": e}))
    return pd.concat(parts, ignore_index=True)


def _remedy(study) -> str:
    """What to try next, given the specification in use."""
    return {
        "linear": "use specification='flexible' (the default) or 'gbm', or add the term.",
        "flexible": "try specification='gbm' (cross-fitted gradient boosting), add the term, or "
        "restrict the population.",
    }.get(study.specification, "add the term, or restrict the population.")
