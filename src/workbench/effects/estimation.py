"""The estimating stage of an :class:`~workbench.effects.InterventionStudy`: Kaplan-Meier, weighted
and augmented (doubly robust) contrasts of every arm against control.

The methods live on :class:`StudyEstimates`, a base class of the study.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import (
    ParameterError,
)
from . import estimators as est
from .bootstrap import (
    bca_interval,
    bootstrap_replicates,
    jackknife_acceleration,
    percentile_interval,
)
from .pseudo import logrank
from .results import EffectResult, SpecificationCheckResult
from .weights import (
    check_trim,
    check_weighting,
)

MATERIAL_SHIFT = (
    0.5  # a shift of half a standard error moves a 95% interval's coverage to about 92%
)


class StudyEstimates:
    """Effect estimation of a declared study (mixed into the study)."""

    def specification_check(
        self,
        specifications=("flexible", "linear"),
        *,
        weighting: str | None = None,
        trim: float | None = None,
    ) -> SpecificationCheckResult:
        """Estimate every contrast under each confounder specification and compare.

        The IPW (or ``weighting``) point estimate and the AIPW estimate with its influence-function
        interval at every horizon and for the RMST, under each of ``specifications`` (the study's
        own first). A shift of more than half the study specification's AIPW standard error is
        material: a :class:`~workbench.exceptions.SpecificationWarning` names it, since the
        estimate then depends on how the confounders enter the models.
        """
        import copy

        from ..exceptions import SpecificationWarning
        from .specification import check_specification

        if not self.confounders:
            raise ParameterError("the specification check needs `confounders`.")
        names = [self.specification] + [
            check_specification(n) for n in specifications if n != self.specification
        ]
        if len(names) < 2:
            raise ParameterError(
                f"`specifications` must name at least one besides the study's ({self.specification!r}), "
                f"got {specifications!r}."
            )
        weighting = weighting or ("none" if self.design == "randomised" else "ipw")
        keep = ["survival_difference", "rmst_difference"]
        parts = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in names:
                other = self if name == self.specification else copy.copy(self)
                if other is not self:
                    other.specification = name
                    other._X_full = None
                    other._ps_cache = {}
                    other._weights_cache = {}  # never overwrite the study's own weights
                    other.warnings = []
                res = other.estimate(weighting, trim=trim, n_bootstrap=0, augment=True)
                sm = res.summary[res.summary["estimand"].isin(keep)].copy()
                sm["specification"] = name
                sm["specification_text"] = other.specification_().describe()
                parts.append(sm)
        tab = pd.concat(parts, ignore_index=True)
        key = ["arm", "estimand", "horizon", "method"]
        base = tab[tab["specification"] == self.specification].set_index(key)["estimate"]
        yard = tab[
            (tab["specification"] == self.specification) & tab["method"].isin(["aipw", "adjusted"])
        ]
        yard = yard.set_index(["arm", "estimand", "horizon"])["se"]
        idx = pd.MultiIndex.from_frame(tab[key])
        tab["shift"] = tab["estimate"].to_numpy() - base.reindex(idx).to_numpy()
        se = yard.reindex(pd.MultiIndex.from_frame(tab[["arm", "estimand", "horizon"]])).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            tab["shift_in_se"] = tab["shift"] / se
        tab["material"] = tab["shift_in_se"].abs() > MATERIAL_SHIFT
        caveats = []
        for arm in dict.fromkeys(tab["arm"]):
            bad = tab[(tab["arm"] == arm) & tab["material"]]
            if len(bad):
                worst = bad.loc[bad["shift_in_se"].abs().idxmax()]
                what = (
                    f"RMST difference up to {worst['horizon']:g} months"
                    if worst["estimand"] == "rmst_difference"
                    else f"retention difference at {worst['horizon']:g} months"
                )
                self._warn(
                    f"specification check ({arm} vs {self.control_label_}): the {worst['method']} "
                    f"{what} moves by {worst['shift']:+.3g} ({worst['shift_in_se']:+.1f} standard errors) "
                    f"under the {worst['specification']} specification ({len(bad)} estimate(s) move by more "
                    f"than {MATERIAL_SHIFT} SE): the estimate depends on how the confounders enter the "
                    "models; prefer the specification whose balance check passes.",
                    SpecificationWarning,
                    caveats,
                )
        cols = key + [
            "specification",
            "estimate",
            "se",
            "ci_lower",
            "ci_upper",
            "shift",
            "shift_in_se",
            "material",
            "unit",
        ]
        return SpecificationCheckResult(
            tab[cols],
            self._meta(
                method="each specification's IPW point estimate and AIPW estimate (influence-function CI)",
                specifications={
                    n: t for n, t in zip(tab["specification"], tab["specification_text"])
                },
                material_shift_in_se=MATERIAL_SHIFT,
            ),
            warnings=caveats,
        )

    # -------------------------------------------------------------------------------------- estimate
    def estimate(
        self,
        weighting: str | None = None,
        *,
        trim: float | None = None,
        augment: bool | None = None,
        n_bootstrap: int = 200,
        ci_method: str = "percentile",
        seed: int = 0,
        n_jobs: int | None = None,
        grid_points: int = 49,
    ) -> EffectResult:
        """Estimate every arm's effect against control.

        Parameters
        ----------
        weighting : {'ipw', 'overlap', 'none'}, optional
            Default: 'none' for randomised designs, 'ipw' for observational ones. 'none' gives the
            unadjusted KM contrasts (Greenwood CIs, log-rank test).
        trim : float, optional
            Truncate propensities to [trim, 1 - trim].
        augment : bool, optional
            Add the augmented (doubly robust) estimates of survival at the horizons and RMST
            (default: whenever confounders are declared). In a randomised design the propensity is
            the arm share, so this is the covariate-adjusted (standardised, augmented) estimate.
            They target the average effect in the arm + control population (ATE) whatever the
            ``weighting``; their outcomes are KM pseudo-values, which assume censoring independent
            of arm and covariates (administrative censoring at the analysis date).
        n_bootstrap : int
            Bootstrap replicates for the weighted estimates (refitting the propensity model in each).
        ci_method : {'percentile', 'bca'}
        seed, n_jobs : int
        """
        weighting = check_weighting(weighting or ("none" if self.design == "randomised" else "ipw"))
        trim = check_trim(trim)
        if ci_method not in ("percentile", "bca"):
            raise ParameterError(f"`ci_method` must be 'percentile' or 'bca', got {ci_method!r}.")
        if (
            isinstance(n_bootstrap, bool)
            or not isinstance(n_bootstrap, (int, np.integer))
            or n_bootstrap < 0
        ):
            raise ParameterError(f"`n_bootstrap` must be a whole number >= 0, got {n_bootstrap!r}.")
        if weighting != "none" and not self.confounders:
            raise ParameterError(
                f"weighting={weighting!r} needs `confounders` for the propensity model."
            )
        self._require_events()
        augment = bool(self.confounders) if augment is None else augment
        if augment and not self.confounders:
            raise ParameterError("augment=True needs `confounders` for the outcome model.")
        z = stats.norm.ppf(1 - self.alpha / 2)
        rows, curves, caveats = [], [], list(self.warnings)
        self._pending: list[str] = []
        self._followup_caveats(caveats)  # as check() does: estimates beyond follow-up extrapolate
        hmax = max(self.horizons + [self.tau])
        grid = np.linspace(0, hmax, grid_points)
        if weighting != "none":
            wr = self.weights(weighting, trim=trim)
            caveats += [w for w in wr.warnings if w not in caveats]
        for arm in self.arms_:
            sub = self._pair(arm)
            d, e, t = self._arrays(sub, arm)
            margin = float(sub[self.margin_col].mean()) if self.margin_col else None
            if weighting == "none":
                rows += self._km_rows(arm, d, e, t, z, margin, curves)
            else:
                rows += self._ipw_rows(
                    arm,
                    d,
                    e,
                    t,
                    weighting,
                    trim,
                    z,
                    margin,
                    grid,
                    curves,
                    n_bootstrap,
                    ci_method,
                    seed,
                    n_jobs,
                )
            if augment:
                rows += self._aipw_rows(arm, sub, d, e, t, trim, z, margin)
        if self.confounders and self.design == "observational":
            caveats += [w for w in self.propensity().warnings if w not in caveats]
        caveats += [w for w in self._pending if w not in caveats]
        summary = pd.DataFrame(rows)[
            [
                "arm",
                "estimand",
                "horizon",
                "estimate",
                "se",
                "ci_lower",
                "ci_upper",
                "p_value",
                "method",
                "unit",
            ]
        ]
        return EffectResult(
            summary,
            self._meta(
                method=weighting,
                weighting=weighting,
                trim=trim,
                n_bootstrap=n_bootstrap if weighting != "none" else 0,
                ci_method=ci_method if weighting != "none" else "analytic",
                seed=seed,
                margin_col=self.margin_col,
                methods={
                    "km": "Kaplan-Meier per arm; Greenwood / RMST variances; log-rank p for the hazard ratio",
                    "ipw": "stabilised inverse-probability-weighted KM; bootstrap CIs refitting the propensity",
                    "overlap": "overlap-weighted KM (overlap population); bootstrap CIs refitting the propensity",
                    "aipw": "augmented IPW on KM pseudo-values, per-arm Cox outcome model; influence-function "
                    "CIs; assumes censoring independent of arm and covariates",
                    "adjusted": "randomised: augmented standardisation (per-arm Cox) with the arm share as "
                    "propensity; influence-function CIs",
                },
            ),
            tables={"curves": pd.DataFrame(curves)},
            warnings=caveats,
        )

    # -- rows of one contrast -------------------------------------------------------------------
    def _contrast_rows(
        self, arm, method, s1, s0, cov, r1, r0, rcov, z, margin, hr=None, p_lr=None, ci=None
    ) -> list[dict]:
        """Assemble rows from point estimates and either variances (cov) or bootstrap intervals (ci)."""
        rows = []
        H = self.horizons

        def add(estimand, h, est_, se_, lo, hi, p=np.nan, unit=""):
            rows.append(
                {
                    "arm": arm,
                    "estimand": estimand,
                    "horizon": h,
                    "estimate": est_,
                    "se": se_,
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "p_value": p,
                    "method": method,
                    "unit": unit,
                }
            )

        for j, h in enumerate(H):
            for estimand, val, key in (
                ("survival_arm", s1[j], "s1"),
                ("survival_control", s0[j], "s0"),
                ("survival_difference", s1[j] - s0[j], "diff"),
                ("survival_ratio", s1[j] / s0[j], "ratio"),
            ):
                if ci is not None:
                    lo, hi = ci[key][0][j], ci[key][1][j]
                    se_ = ci[key][2][j]
                else:
                    se_ = np.sqrt(cov[key][j])
                    if key == "ratio":
                        lse = np.sqrt(cov["s1"][j] / s1[j] ** 2 + cov["s0"][j] / s0[j] ** 2)
                        lo, hi = val * np.exp(-z * lse), val * np.exp(z * lse)
                        se_ = val * lse
                    else:
                        lo, hi = val - z * se_, val + z * se_
                p = 2 * stats.norm.sf(abs(val / se_)) if key == "diff" and se_ > 0 else np.nan
                add(estimand, h, val, se_, lo, hi, p, "probability" if key != "ratio" else "ratio")
            diff = s1[j] - s0[j]
            drow = rows[-2]
            nnt = 1 / diff if diff != 0 else np.inf
            lo, hi = (
                (1 / drow["ci_upper"], 1 / drow["ci_lower"])
                if drow["ci_lower"] > 0 or drow["ci_upper"] < 0
                else (np.nan, np.nan)
            )
            add(
                "nnt",
                h,
                nnt,
                np.nan,
                min(lo, hi),
                max(lo, hi),
                unit="customers treated per customer retained",
            )
        for estimand, val, key in (
            ("rmst_arm", r1, "r1"),
            ("rmst_control", r0, "r0"),
            ("rmst_difference", r1 - r0, "rdiff"),
        ):
            if ci is not None:
                lo, hi, se_ = ci[key][0], ci[key][1], ci[key][2]
            else:
                se_ = np.sqrt(rcov[key])
                lo, hi = val - z * se_, val + z * se_
            p = 2 * stats.norm.sf(abs(val / se_)) if key == "rdiff" and se_ > 0 else np.nan
            add(estimand, self.tau, val, se_, lo, hi, p, "months")
        if margin is not None:
            rd = rows[-1]
            add(
                "incremental_revenue",
                self.tau,
                rd["estimate"] * margin,
                rd["se"] * margin,
                rd["ci_lower"] * margin,
                rd["ci_upper"] * margin,
                rd["p_value"],
                f"{self.margin_col} units per customer over {self.tau:g} months (RMST difference x mean "
                f"{self.margin_col} {margin:.2f})",
            )
        if hr is not None:
            est_, lo, hi, se_, p = hr
            add("hazard_ratio", np.nan, est_, se_, lo, hi, p if p_lr is None else p_lr, "ratio")
        return rows

    def _km_rows(self, arm, d, e, t, z, margin, curves):
        k = est.km_contrast(d, e, t, self.horizons, self.tau)
        cov = {"s1": k["v1"], "s0": k["v0"], "diff": k["v1"] + k["v0"]}
        cov["ratio"] = cov["diff"]
        rcov = {"r1": k["rv1"], "r0": k["rv0"], "rdiff": k["rv1"] + k["rv0"]}
        b, se = est.cox_hr(d, e, t)
        _, p_lr = logrank(d, e, t)
        hr = (np.exp(b), np.exp(b - z * se), np.exp(b + z * se), se * np.exp(b), p_lr)
        for g, key, mask in ((arm, "1", t == 1), (self.control_label_, "0", t == 0)):
            tt, s, v, y = k["curve" + key]
            grid = np.concatenate([[0.0], tt])
            sv = np.concatenate([[1.0], s])
            vv = np.concatenate([[0.0], v])
            yy = np.concatenate([[mask.sum()], y])
            keep = grid <= max(self.horizons + [self.tau])
            for ti, si, vi, yi in zip(grid[keep], sv[keep], vv[keep], yy[keep]):
                curves.append(
                    {
                        "arm": arm,
                        "group": g,
                        "time": ti,
                        "survival": si,
                        "ci_lower": max(si - z * np.sqrt(vi), 0.0),
                        "ci_upper": min(si + z * np.sqrt(vi), 1.0),
                        "n_at_risk": int(round(yi)),
                        "method": "km",
                    }
                )
        return self._contrast_rows(
            arm, "km", k["s1"], k["s0"], cov, k["r1"], k["r0"], rcov, z, margin, hr=hr
        )

    def _ipw_rows(
        self,
        arm,
        d,
        e,
        t,
        weighting,
        trim,
        z,
        margin,
        grid,
        curves,
        n_bootstrap,
        ci_method,
        seed,
        n_jobs,
    ):
        score, _, beta, X, folds = self._ps_cache["fits"][arm]
        if beta is None:  # gradient boosting: the cross-fitted scores are held fixed
            X, beta = np.ones((len(t), 1)), np.zeros(1)
        else:
            score = None
        stat = est.IPWStatistic(
            X,
            t,
            d,
            e,
            weighting=weighting,
            trim=trim,
            horizons=self.horizons,
            tau=self.tau,
            grid=grid,
            beta=beta,
            score=score,
        )
        full = stat(None)
        if n_bootstrap:
            reps = bootstrap_replicates(
                stat, len(t), n_bootstrap=n_bootstrap, seed=seed, n_jobs=n_jobs
            )
        else:  # point estimates only (e.g. when only the augmented estimate's analytic CI is wanted)
            reps = np.full((2, len(full)), np.nan)
        H = len(self.horizons)
        G = len(grid)

        def derived(v):
            v = np.atleast_2d(v)
            s1, s0 = v[:, :H], v[:, H : 2 * H]
            r1, r0, lhr = v[:, 2 * H], v[:, 2 * H + 1], v[:, 2 * H + 2]
            return np.column_stack([s1, s0, s1 - s0, s1 / s0, r1, r0, r1 - r0, lhr])

        theta = derived(full)[0]
        R = derived(reps)
        if not n_bootstrap:
            lo = hi = np.full(R.shape[1], np.nan)
        elif ci_method == "bca":
            acc = jackknife_acceleration(
                lambda f: derived(stat(f))[0], len(t), groups=50, seed=seed
            )
            lo, hi = bca_interval(R, theta, acc, self.alpha)
        else:
            lo, hi = percentile_interval(R, self.alpha)
        se = np.nanstd(R, axis=0, ddof=1) if n_bootstrap > 1 else np.full(R.shape[1], np.nan)
        sl = {
            "s1": slice(0, H),
            "s0": slice(H, 2 * H),
            "diff": slice(2 * H, 3 * H),
            "ratio": slice(3 * H, 4 * H),
        }
        ci = {k: (lo[s], hi[s], se[s]) for k, s in sl.items()}
        for k, j in (("r1", 4 * H), ("r0", 4 * H + 1), ("rdiff", 4 * H + 2)):
            ci[k] = (lo[j], hi[j], se[j])
        j = 4 * H + 3
        hr = (
            np.exp(theta[j]),
            np.exp(lo[j]),
            np.exp(hi[j]),
            se[j] * np.exp(theta[j]),
            2 * stats.norm.sf(abs(theta[j] / se[j])) if se[j] > 0 else np.nan,
        )
        if n_bootstrap:
            c_lo, c_hi = percentile_interval(reps[:, 2 * H + 3 :], self.alpha)
        else:
            c_lo = c_hi = np.full(reps.shape[1] - (2 * H + 3), np.nan)
        base = 2 * H + 3
        for gi, (g, mask) in enumerate(((arm, t == 1), (self.control_label_, t == 0))):
            at_risk = (d[mask][None, :] >= grid[:, None]).sum(axis=1)
            for i, ti in enumerate(grid):
                col = gi * G + i
                curves.append(
                    {
                        "arm": arm,
                        "group": g,
                        "time": ti,
                        "survival": full[base + col],
                        "ci_lower": c_lo[col],
                        "ci_upper": c_hi[col],
                        "n_at_risk": int(at_risk[i]),
                        "method": weighting,
                    }
                )
        s1, s0 = theta[:H], theta[H : 2 * H]
        return self._contrast_rows(
            arm,
            weighting,
            s1,
            s0,
            None,
            theta[4 * H],
            theta[4 * H + 1],
            None,
            z,
            margin,
            hr=hr,
            ci=ci,
        )

    def _aipw_rows(self, arm, sub, d, e, t, trim, z, margin):
        X, names = self._pair_design(arm)
        Xc = X[:, 1:]
        if self.design == "observational":
            self.propensity()
            score, folds = self._ps_cache["fits"][arm][0], self._ps_cache["fits"][arm][4]
            method = "aipw"
        else:
            score, folds = np.full(len(t), t.mean()), None
            method = "adjusted"
        H = len(self.horizons)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            psi1, psi0, phi1, phi0 = est.aipw_contrast(
                d,
                e,
                t,
                score,
                Xc,
                self.horizons,
                self.tau,
                trim=trim,
                folds=folds,
                names=names[1:],
            )
        for category, msg in _outcome_caveats(caught, f"{method} ({arm} vs {self.control_label_})"):
            self._pending.append(msg)
            warnings.warn(msg, category, stacklevel=3)
        n = len(t)
        v1 = phi1.var(axis=0, ddof=1) / n
        v0 = phi0.var(axis=0, ddof=1) / n
        vd = (phi1 - phi0).var(axis=0, ddof=1) / n
        cov = {"s1": v1[:H], "s0": v0[:H], "diff": vd[:H]}
        rows = []
        # ratio via delta on the log scale with the IF covariance
        lr_if = phi1[:, :H] / psi1[:H] - phi0[:, :H] / psi0[:H]
        cov["ratio"] = lr_if.var(axis=0, ddof=1) / n
        rcov = {"r1": v1[H], "r0": v0[H], "rdiff": vd[H]}
        out = self._contrast_rows(
            arm, method, psi1[:H], psi0[:H], cov, psi1[H], psi0[H], rcov, z, margin
        )
        for r in out:  # the ratio rows used the independent-arm formula: replace with the IF one
            if r["estimand"] == "survival_ratio":
                j = list(self.horizons).index(r["horizon"])
                lse = np.sqrt(cov["ratio"][j])
                r["se"] = r["estimate"] * lse
                r["ci_lower"], r["ci_upper"] = (
                    r["estimate"] * np.exp(-z * lse),
                    r["estimate"] * np.exp(z * lse),
                )
        rows += out
        return rows


def _outcome_caveats(caught, where: str) -> list[tuple[type, str]]:
    """One caveat per kind of outcome-model warning, naming the terms (not one per term)."""
    import re

    by_kind: dict = {}
    for w in caught:
        text = str(w.message)
        m = re.search(r"[Mm]onotone likelihood for '([^']+)'", text)
        key = (w.category, "monotone" if m else text)
        by_kind.setdefault(key, []).append(m.group(1) if m else None)
    out = []
    for (category, kind), terms in by_kind.items():
        if kind == "monotone":
            names = list(dict.fromkeys(terms))
            out.append(
                (
                    category,
                    f"{where}, per-arm Cox outcome model: monotone likelihood for {len(names)} term(s) "
                    f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}): a level or range "
                    "without churn in one arm; those coefficients are unbounded and the outcome model "
                    "predicts survival at the boundary there, so for those customers the estimate rests "
                    "on its weighting term; consider specification='linear' or merging those levels.",
                )
            )
        else:
            out.append((category, f"{where}, per-arm Cox outcome model: {kind}"))
    return out
