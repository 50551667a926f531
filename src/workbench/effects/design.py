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

from ..checks import check_alpha
from ..columns import data_fingerprint, event_array, tenure_array
from ..data import Dataset
from ..exceptions import (
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
)
from .diagnostics import DesignCheckResult, StudyChecks, WeightsResult
from .estimation import EffectResult, StudyEstimates
from .refinement import balance_steps
from .results import study_reference_levels
from .specification import Specification, check_specification, choose_specification

DESIGNS = ("randomised", "observational")

__all__ = ["DesignCheckResult", "EffectResult", "InterventionStudy", "WeightsResult"]


class InterventionStudy(StudyChecks, StudyEstimates):
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
    specification : {'flexible', 'linear', 'gbm'}
        How the confounders enter the propensity and outcome models (see
        :mod:`workbench.effects.specification`). ``'flexible'`` (default): a rule read from the data
        (categories for categorical and low-cardinality numbers, natural splines for continuous
        ones, pairwise interactions, and in observational studies threshold terms of continuous
        confounders kept while the weights leave them unbalanced, :mod:`workbench.effects.refinement`);
        ``'linear'``: numbers as they are; ``'gbm'``: a gradient-boosting
        propensity (scikit-learn), cross-fitted over ``n_folds`` folds, with the flexible outcome model.
        The specification used is stated in words in every result's ``meta['specification']``.
    propensity_splines : list of str, optional
        With ``specification='linear'``: numeric confounders entered as natural splines instead.
    spline_df : int, optional
        Degrees of freedom of those splines (default: the flexible rule's ``n ** (1/5)``, 3 to 8).
    interactions : list of (str, str), optional
        With ``specification='linear'``: confounder pairs whose products enter the models.
    n_folds : int
        Cross-fitting folds of the ``'gbm'`` specification.
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
        specification: str = "flexible",
        propensity_splines: list[str] | None = None,
        spline_df: int | None = None,
        interactions: list | None = None,
        n_folds: int = 5,
        alpha: float = 0.05,
    ):
        if isinstance(alpha, str):
            raise ParameterError(
                f"`alpha` must be a number in (0, 1), e.g. 0.05 for 95% intervals; got the text {alpha!r}. "
                "Pass it without quotes."
            )
        alpha = check_alpha(alpha)
        self.specification = check_specification(specification)
        if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
            raise ParameterError(f"`n_folds` must be a whole number >= 2, got {n_folds!r}.")
        self.n_folds = int(n_folds)
        spec = data.spec if isinstance(data, Dataset) else None
        frame = data.frame if isinstance(data, Dataset) else data
        if not isinstance(frame, pd.DataFrame):
            from ..aggregate.dataset import refuse_rows

            refuse_rows(data, "effects study")
            raise ParameterError(
                f"`data` must be a workbench Dataset or a DataFrame, got {type(data).__name__}."
            )
        self.fingerprint = data_fingerprint(data)
        # rows the Dataset's validation already excluded (before the study's own exclusions)
        self.data_exclusions_ = list(getattr(data, "exclusions", None) or [])
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
        self.alpha = alpha
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
        if spline_df is not None and (
            isinstance(spline_df, bool)
            or not isinstance(spline_df, (int, np.integer))
            or spline_df < 2
        ):
            raise ParameterError(f"`spline_df` must be a whole number >= 2, got {spline_df!r}.")
        self.spline_df = spline_df
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
        # tenure and event of the customers in the study, checked by the one resolver (text, missing,
        # infinite or negative tenure and 1/2-coded events are refused, naming the column)
        where = "InterventionStudy"
        duration = tenure_array(f, self.duration_col, argument="duration_col", func=where)
        event = event_array(f, self.event_col, argument="event_col", func=where)
        self.frame_ = f.copy(deep=False)  # the user's columns are never modified in place
        self.frame_[self.duration_col] = duration
        self.frame_[self.event_col] = event
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
        self.exclusions.append({"rule": "study population", "n_rows": int(k), "reason": why})
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

    def specification_(self, name: str | None = None) -> Specification:
        """The confounder specification (the study's, or ``name``) chosen from the study population."""
        name = name or self.specification
        cache = self.__dict__.setdefault("_spec_cache", {})
        if name not in cache:
            min_arm = int(self.frame_["_arm"].value_counts().min())
            spec = choose_specification(
                self.frame_,
                self.confounders,
                name,
                splines=self.propensity_splines,
                interactions=self.interactions,
                df=self.spline_df,
                min_arm=min_arm,
            )
            if name == "flexible" and self.design == "observational":
                # threshold terms the weights leave unbalanced (workbench.effects.refinement)
                arm = self.frame_["_arm"]
                pairs = {}
                for a in self.arms_:
                    rows = arm.isin([a, self.control_label_]).to_numpy()
                    pairs[a] = (rows, (arm[rows] == a).to_numpy().astype(float))
                spec.steps, spec.refined = balance_steps(spec, self.frame_, pairs, min_arm=min_arm)
            cache[name] = spec
        return cache[name]

    def _design_full(self):
        if self._X_full is None:
            self._X_full = self.specification_().design(self.frame_)
        return self._X_full

    def _pair_design(self, arm: str, specification: str | None = None):
        rows = self.frame_["_arm"].isin([arm, self.control_label_]).to_numpy()
        if specification in (None, self.specification):
            X, names = self._design_full()
            Xp = X if rows.all() else X[rows]  # one arm: no copy of an n x p matrix
        else:
            Xp, names = self.specification_(specification).design(self.frame_.loc[rows])
        keep = np.ones(Xp.shape[1], dtype=bool)
        keep[1:] = Xp[:, 1:].std(axis=0) > 1e-12
        if keep.all():
            return Xp, list(names)
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
            "exclusions": self.data_exclusions_ + list(self.exclusions),
            "fingerprint": self.fingerprint,
            "reference_levels": study_reference_levels(self),
            "specification": self.specification,
            "specification_text": self.specification_().describe() if self.confounders else "",
        }
        m.update(kw)
        return m

    def describe(self):
        """The study in words (treatment, arms, design, population, confounders, specification)."""
        from ..plotting.effects import Sentence

        conf = ", ".join(self.confounders) if self.confounders else "none"
        spec = (
            self.specification_().describe()
            if self.confounders
            else "No confounders: unadjusted contrasts only."
        )
        left = getattr(self, "constant_roles_", [])
        left = f" Left out as constant in the study population: {', '.join(left)}." if left else ""
        return Sentence(
            f"Treatment '{self.treatment_col}' ({self.design}): {', '.join(self.arms_)} compared with "
            f"'{self.control_label_}' among {len(self.frame_):,} customers ({self.n_excluded_:,} "
            f"excluded). Confounders: {conf}.{left} {spec}"
        )

    def record(self) -> dict:
        """What a notebook records about the declared study."""
        return {
            "treatment": self.treatment_col,
            "control_arm": self.control_label_,
            "arms": list(self.arms_),
            "design": self.design,
            "n": int(len(self.frame_)),
            "n_excluded": int(self.n_excluded_),
            "confounders": list(self.confounders),
            "specification": self.specification,
            "specification_text": self.specification_().describe() if self.confounders else "",
        }

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
