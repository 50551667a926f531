"""``InterventionStudy``: declare -> check -> estimate -> probe, for one treatment column.

Declare the treatment column, its control arm, the outcome (the spec's tenure and churn event),
horizons, tau and, for observational data, the confounders. Rows whose treatment is missing are
outside the study (e.g. the synthetic ``retention_offer`` exists only in the consumer segment): they
are excluded, counted, warned about and recorded in ``meta``. Every other arm is compared with the
control arm; for observational data each arm-vs-control contrast has its own propensity model (see
:mod:`workbench.effects.propensity`).

References
----------
Hernan, M. A. & Robins, J. M. (2020). Causal Inference: What If. Chapman & Hall/CRC.
Sharma, A. & Kiciman, E. (2020). DoWhy: an end-to-end library for causal inference. arXiv:2011.04216.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..data import Dataset
from ..exceptions import (
    DataValidationError,
    ExtrapolationWarning,
    ExtremeWeightsWarning,
    ModelError,
    ParameterError,
    PositivityWarning,
    RowsExcludedWarning,
    SmallSampleWarning,
)
from ..results import Result
from . import estimators as est
from .balance import SMD_THRESHOLD, BalanceResult, balance_columns, smd
from .bootstrap import (
    bca_interval,
    bootstrap_replicates,
    jackknife_acceleration,
    percentile_interval,
)
from .propensity import PropensityResult, design_matrix, fit_propensity
from .weights import (
    balancing_weights,
    check_trim,
    check_weighting,
    extreme_weight_messages,
    positivity_messages,
    weight_summary,
)

DESIGNS = ("randomised", "observational")
MIN_EVENTS_PER_ARM = 10


class DesignCheckResult(Result):
    """Arms, customers, events and follow-up per arm; positivity and balance of the declared design.

    ``summary``: group, n, events, event_share, median_followup, max_followup, propensity_min,
    propensity_max. ``tables['balance']``: balance before weighting (if confounders).
    """

    title = "Study design check"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_overlap

        if "scores" not in self.tables:
            raise NotImplementedError("no propensity scores: the study declares no confounders")
        return plot_overlap(self, ax=ax, **kwargs)


class WeightsResult(Result):
    """Weight distribution per contrast and group: n, sum, mean, min, max, effective sample size,
    share of the weight carried by the top 1% of customers."""

    title = "Balancing weights"


class EffectResult(Result):
    """Effect estimates: arm, estimand, horizon, estimate, se, ci_lower, ci_upper, p_value, method, unit.

    Estimands: ``survival_arm`` / ``survival_control`` / ``survival_difference`` / ``survival_ratio`` /
    ``nnt`` at each horizon (months), ``rmst_arm`` / ``rmst_control`` / ``rmst_difference`` up to tau
    (months of customer life), ``incremental_revenue`` (RMST difference x mean margin per month, in
    the data's money units per customer over tau months) and ``hazard_ratio``.
    ``tables['curves']``: arm, group, time, survival, ci_lower, ci_upper, n_at_risk (unweighted).
    ``plot()`` draws the survival curves with CIs and the unweighted numbers at risk.
    """

    title = "Intervention effects on retention"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_effect_curves

        return plot_effect_curves(self, ax=ax, **kwargs)


class InterventionStudy:
    """An intervention study on retention: declare, :meth:`check`, :meth:`estimate`, probe.

    Parameters
    ----------
    data : Dataset or DataFrame
    treatment_col : str, optional
        The treatment column; default: the spec's first treatment.
    control_arm : optional
        The control arm; default from the spec's treatment.
    design : {'randomised', 'observational'}, optional
        Default from the spec's ``assignment``.
    confounders : list of str, optional
        Required for observational designs (the propensity model and the outcome model); for
        randomised designs, optional baseline covariates for the adjusted estimate.
    horizons : list of float
        Months at which survival (retention) is compared.
    tau : float
        RMST horizon (months).
    duration_col, event_col, margin_col : str, optional
        Defaults from the spec (tenure, event, margin else revenue).
    population : str, optional
        A ``DataFrame.query`` restricting the study population (e.g. ``"segment == 'consumer'"``).
    propensity_splines : list of str, optional
        Numeric confounders entered as B-splines in the propensity model.
    spline_df : int
    interactions : list of (str, str), optional
        Confounder pairs whose interaction enters the propensity model.
    alpha : float

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=3_000, seed=1)
    >>> study = InterventionStudy(ds, treatment_col="loyalty_programme",
    ...     confounders=["contract", "monthly_charge", "n_complaints", "satisfaction", "age"])
    >>> study.arms_, study.design
    (['member'], 'observational')
    """

    def __init__(
        self,
        data: Dataset | pd.DataFrame,
        *,
        treatment_col: str | None = None,
        control_arm: Any = None,
        design: str | None = None,
        confounders: list[str] | None = None,
        horizons=(6, 12, 24),
        tau: float = 24,
        duration_col: str | None = None,
        event_col: str | None = None,
        margin_col: str | None = None,
        population: str | None = None,
        propensity_splines: list[str] | None = None,
        spline_df: int = 4,
        interactions: list | None = None,
        alpha: float = 0.05,
    ):
        spec = data.spec if isinstance(data, Dataset) else None
        frame = data.frame if isinstance(data, Dataset) else data
        if not isinstance(frame, pd.DataFrame):
            raise ParameterError(
                f"`data` must be a workbench Dataset or a DataFrame, got {type(data).__name__}."
            )
        self.fingerprint = data.fingerprint if isinstance(data, Dataset) else None
        self.warnings: list[str] = []
        self.exclusions: list[dict] = []
        # -- the treatment ------------------------------------------------------------------------
        tr = None
        if spec is not None and spec.treatments:
            if treatment_col is None or any(t.column == treatment_col for t in spec.treatments):
                tr = spec.treatment(treatment_col)
        if treatment_col is None:
            if tr is None:
                raise ParameterError(
                    "`treatment_col` is required: the data come without a spec naming a treatment."
                )
            treatment_col = tr.column
        self.treatment_col = treatment_col
        self.duration_col = duration_col or (spec.tenure if spec else None)
        self.event_col = event_col or (spec.event if spec else None)
        for name, col in (
            ("treatment_col", treatment_col),
            ("duration_col", self.duration_col),
            ("event_col", self.event_col),
        ):
            if col is None:
                raise ParameterError(f"`{name}` is required when `data` is a plain DataFrame.")
            if col not in frame.columns:
                raise ParameterError(
                    f"`{name}`: column '{col}' is not in the data. Available columns: {', '.join(map(str, frame.columns))}."
                )
        self.control_arm = (
            control_arm if control_arm not in (None, "") else (tr.control if tr else None)
        )
        if self.control_arm is None:
            raise ParameterError(
                f"`control_arm` is required: no spec declares the control arm of '{treatment_col}'."
            )
        design = design or (tr.assignment if tr else None)
        if design not in DESIGNS:
            raise ParameterError(f"`design` must be one of {DESIGNS}, got {design!r}.")
        self.design = design
        self.horizons = _check_horizons(horizons)
        if not isinstance(tau, (int, float)) or isinstance(tau, bool) or tau <= 0:
            raise ParameterError(f"`tau` must be a positive number of months, got {tau!r}.")
        self.tau = float(tau)
        if not 0 < alpha < 1:
            raise ParameterError(f"`alpha` must be in (0, 1), got {alpha!r}.")
        self.alpha = float(alpha)
        self.margin_col = margin_col or ((spec.margin or spec.revenue) if spec else None)
        if self.margin_col is not None and self.margin_col not in frame.columns:
            raise ParameterError(f"`margin_col`: column '{self.margin_col}' is not in the data.")
        self.confounders = list(confounders or [])
        missing = [c for c in self.confounders if c not in frame.columns]
        if missing:
            raise ParameterError(
                f"`confounders`: column(s) {missing} not in the data. Available: {', '.join(map(str, frame.columns))}."
            )
        if self.design == "observational" and not self.confounders:
            raise ParameterError(
                "an observational study needs `confounders` (the baseline covariates that drive both the "
                "treatment and churn), e.g. confounders=['contract', 'monthly_charge', 'age']."
            )
        self.propensity_splines = list(propensity_splines or [])
        self.spline_df = int(spline_df)
        self.interactions = [tuple(p) for p in (interactions or [])]
        for a, b in self.interactions:
            if a not in self.confounders or b not in self.confounders:
                raise ParameterError(f"`interactions`: ({a!r}, {b!r}) must both be confounders.")
        # -- the study population -----------------------------------------------------------------
        f = frame
        n0 = len(f)
        if population:
            try:
                f = f.query(population)
            except Exception as e:
                raise ParameterError(f"`population` query {population!r} failed: {e}") from e
            self._exclude(n0 - len(f), f"outside population {population!r}")
        miss_t = f[treatment_col].isna()
        if miss_t.any():
            self._exclude(
                int(miss_t.sum()), f"treatment '{treatment_col}' missing (outside the study)"
            )
            f = f.loc[~miss_t]
        if self.confounders:
            miss_c = f[self.confounders].isna().any(axis=1)
            if miss_c.any():
                cols = [c for c in self.confounders if f[c].isna().any()]
                self._exclude(int(miss_c.sum()), f"missing confounder value(s) in {cols}")
                f = f.loc[~miss_c]
        arms_seen = pd.unique(f[treatment_col].astype(object))
        if not any(_same(a, self.control_arm) for a in arms_seen):
            raise ParameterError(
                f"`control_arm` {self.control_arm!r} does not occur in '{treatment_col}'; its arms are "
                f"{sorted(map(str, arms_seen))}. Pass one of them as control_arm."
            )
        if len(arms_seen) < 2:
            raise DataValidationError(
                f"treatment '{treatment_col}' has one arm only ({list(map(str, arms_seen))}) in the study "
                "population: there is nothing to compare. Check the column or the population.",
                column=treatment_col,
                rule="two_arms",
            )
        for c in self.confounders:
            if f[c].nunique(dropna=True) < 2:
                raise ParameterError(
                    f"`confounders`: '{c}' is constant ({f[c].iloc[0]!r}) in the study population, so it cannot "
                    "confound anything and makes the models singular. Remove it from `confounders`."
                )
        self.frame_ = f.copy()
        self.frame_["_arm"] = f[treatment_col].astype(object).map(lambda v: str(v))
        self.control_label_ = str(self.control_arm)
        spec_arms = [str(a) for a in (tr.arms or [])] if tr else []
        seen = sorted(
            set(self.frame_["_arm"]) - {self.control_label_},
            key=lambda a: (spec_arms.index(a) if a in spec_arms else len(spec_arms), a),
        )
        self.arms_ = seen
        self.n_excluded_ = sum(e["n_rows"] for e in self.exclusions)
        self._ps_cache: dict = {}
        self._X_full = None

    # ---------------------------------------------------------------------------------------- utils
    def _exclude(self, k: int, why: str) -> None:
        if k <= 0:
            return
        msg = f"{k:,} customers excluded from the study: {why}."
        self.exclusions.append({"n_rows": int(k), "reason": why})
        self.warnings.append(msg)
        warnings.warn(msg, RowsExcludedWarning, stacklevel=3)

    def _warn(self, msg: str, category, store: list[str]) -> None:
        store.append(msg)
        warnings.warn(msg, category, stacklevel=3)

    def _pair(self, arm: str) -> pd.DataFrame:
        return self.frame_.loc[self.frame_["_arm"].isin([arm, self.control_label_])]

    def _arrays(self, sub: pd.DataFrame, arm: str):
        return (
            sub[self.duration_col].to_numpy(dtype=float),
            sub[self.event_col].to_numpy(dtype=float),
            (sub["_arm"] == arm).to_numpy().astype(float),
        )

    def _design_full(self):
        if self._X_full is None:
            self._X_full = design_matrix(
                self.frame_,
                self.confounders,
                splines=self.propensity_splines,
                spline_df=self.spline_df,
                interactions=self.interactions,
            )
        return self._X_full

    def _pair_design(self, arm: str):
        X, names = self._design_full()
        rows = self.frame_["_arm"].isin([arm, self.control_label_]).to_numpy()
        Xp = X[rows]
        keep = np.ones(Xp.shape[1], dtype=bool)
        keep[1:] = Xp[:, 1:].std(axis=0) > 1e-12
        return Xp[:, keep], [n for n, k in zip(names, keep) if k]

    def _meta(self, **kw) -> dict:
        m = {
            "n": int(len(self.frame_)),
            "events": int(self.frame_[self.event_col].sum()),
            "alpha": self.alpha,
            "treatment": self.treatment_col,
            "control_arm": self.control_label_,
            "arms": list(self.arms_),
            "design": self.design,
            "confounders": list(self.confounders),
            "horizons": list(self.horizons),
            "tau": self.tau,
            "n_excluded": self.n_excluded_,
            "exclusions": list(self.exclusions),
            "fingerprint": self.fingerprint,
        }
        m.update(kw)
        return m

    # ---------------------------------------------------------------------------------------- check
    def _check_positivity_exact(self, arm: str) -> None:
        sub = self._pair(arm)
        t = sub["_arm"] == arm
        for c in self.confounders:
            s = sub[c]
            if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
                continue  # numbers enter the model as numbers: only the fitted propensities can tell
            tab = pd.crosstab(s.astype(str), t)
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
            scores[arm] = (e, t, beta, X)
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
                method="logistic regression (statsmodels GLM), one per arm vs control",
                population="each contrast: customers of the arm and of the control arm",
            ),
            tables={"quantiles": pd.DataFrame(rows)},
            warnings=caveats,
        )
        res.scores_ = {a: (v[0], v[1]) for a, v in scores.items()}
        self._ps_cache["result"] = res
        self._ps_cache["fits"] = scores
        return res

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
            if row["max_followup"] < max(self.horizons + [self.tau]):
                self._warn(
                    f"arm '{label}': follow-up ends at {row['max_followup']:.3g} months, before the "
                    f"largest horizon / tau ({max(self.horizons + [self.tau]):g}); the curve is flat "
                    "beyond it (extrapolation).",
                    ExtrapolationWarning,
                    caveats,
                )
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
        """Standardised mean differences of the confounders before and after weighting."""
        check_weighting(weighting)
        if not self.confounders:
            raise ParameterError(
                "the study declares no `confounders`: there is nothing to balance."
            )
        rows = []
        caveats: list[str] = []
        wr = self.weights(weighting, trim=trim) if weighting != "none" else None
        if wr is not None:
            caveats += wr.warnings
        for arm in self.arms_:
            sub = self._pair(arm)
            _, _, t = self._arrays(sub, arm)
            B = balance_columns(sub, self.confounders)
            before = smd(B.to_numpy(), t)
            after = smd(B.to_numpy(), t, self._weights_cache[arm]) if wr is not None else before
            for c, b, a in zip(B.columns, before, after):
                rows.append(
                    {
                        "contrast": f"{arm} vs {self.control_label_}",
                        "covariate": c,
                        "smd_before": b,
                        "smd_after": a,
                        "balanced": bool(abs(a) < SMD_THRESHOLD),
                    }
                )
        df = pd.DataFrame(rows)
        if wr is not None and (~df["balanced"]).any():
            bad = df.loc[~df["balanced"], "covariate"].tolist()
            caveats.append(
                f"after {weighting} weighting, {len(bad)} covariate(s) keep |SMD| >= {SMD_THRESHOLD}: "
                f"{', '.join(bad[:6])}. Consider splines or interactions in the propensity model."
            )
        return BalanceResult(
            df,
            self._meta(method=f"SMD, {weighting} weights", threshold=SMD_THRESHOLD),
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
        _, p_lr = est.logrank(d, e, t)
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
        X = self._ps_cache["fits"][arm][3]
        beta = self._ps_cache["fits"][arm][2]
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
            score = self._ps_cache["fits"][arm][0]
            method = "aipw"
        else:
            score = np.full(len(t), t.mean())
            method = "adjusted"
        H = len(self.horizons)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            psi1, psi0, phi1, phi0 = est.aipw_contrast(
                d, e, t, score, Xc, self.horizons, self.tau, trim=trim
            )
        for w in caught:
            msg = (
                f"{method} ({arm} vs {self.control_label_}), per-arm Cox outcome model: {w.message}"
            )
            self._pending.append(msg)
            warnings.warn(msg, w.category, stacklevel=3)
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

    def __repr__(self) -> str:
        return (
            f"<InterventionStudy {self.treatment_col}: {self.arms_} vs {self.control_label_!r}, {self.design}, "
            f"n={len(self.frame_):,}>"
        )


def _check_horizons(horizons) -> list[float]:
    h = [horizons] if isinstance(horizons, (int, float)) else list(horizons)
    if not h or any(
        isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or x <= 0
        for x in h
    ):
        raise ParameterError(f"`horizons` must be a list of positive months, got {horizons!r}.")
    return [float(x) for x in h]


def _same(a, b) -> bool:
    return str(a) == str(b)


def _where(sub, frame, confounders) -> str:
    from .weights import describe_where

    return describe_where(sub, frame, confounders)


def _score_table(ps: PropensityResult) -> pd.DataFrame:
    """Propensity scores by contrast and observed arm (no customer ids), for the overlap plot."""
    parts = []
    for arm, (e, t) in ps.scores_.items():
        parts.append(pd.DataFrame({"contrast": arm, "treated": t.astype(int), "propensity": e}))
    return pd.concat(parts, ignore_index=True)
