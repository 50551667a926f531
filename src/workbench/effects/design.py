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

from ..data import Dataset
from ..exceptions import (
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
)
from .diagnostics import DesignCheckResult, StudyChecks, WeightsResult
from .estimation import EffectResult, StudyEstimates
from .propensity import design_matrix

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
