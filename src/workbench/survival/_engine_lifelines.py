"""``EngineCoxPHFitter``: lifelines' ``CoxPHFitter`` with its Newton-Raphson run on the fast engine.

lifelines keeps doing everything around the fit (formula and data handling, normalisation,
baseline hazards, ``summary``, ``print_summary``, prediction, plots, robust variances), so users
who expect lifelines' results object get exactly that, only faster on large data. The one method
replaced is ``_newton_raphson_for_efron_model`` (a private lifelines method, stable from 0.27 to
0.30); entry times (left truncation), L1/elastic-net penalties and per-covariate penalizer arrays
fall back to lifelines' own optimiser, as do covariates lifelines' normalisation left non-finite
and ``show_progress=True`` (lifelines prints its own iterations).

lifelines' contract is kept: its guards run before the fit (left / interval censoring refused, its
low-variance and separation checks); a singular (collinear) design raises lifelines'
``ConvergenceError`` with its message; separation warns with :class:`EngineSeparationWarning`, which
is both lifelines' ``ConvergenceWarning`` and the workbench's ``SeparationWarning``, and names the
column.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, exceptions
from lifelines.fitters.coxph_fitter import SemiParametricPHFitter

from ..exceptions import ConvergenceWarning, ModelError, SeparationWarning
from .engine import cox_fit

# lifelines' own pointer, word for word (a local of its Newton-Raphson method in 0.30)
CONVERGENCE_DOCS = (
    "Please see the following tips in the lifelines documentation: "
    "https://lifelines.readthedocs.io/en/latest/Examples.html"
    "#problems-with-convergence-in-the-cox-proportional-hazard-model"
)


class EngineSeparationWarning(SeparationWarning, exceptions.ConvergenceWarning):
    """Separation found by the engine, in lifelines' warning class (and the workbench's)."""


class _EngineSemiParametricPHFitter(SemiParametricPHFitter):
    """lifelines' semi-parametric Cox fitter with the engine's Newton-Raphson."""

    def _newton_raphson_for_efron_model(
        self,
        X,
        T,
        E,
        weights,
        entries,
        initial_point=None,
        show_progress=True,
        step_size=0.95,
        precision=1e-07,
        r_precision=1e-9,
        max_steps=500,
    ):
        simple_penalty = np.isscalar(self.penalizer) and (self.penalizer == 0 or self.l1_ratio == 0)
        finite = bool(np.isfinite(X.to_numpy(dtype=float)).all())
        if entries is not None or not simple_penalty or not finite or show_progress:
            return super()._newton_raphson_for_efron_model(
                X,
                T,
                E,
                weights,
                entries,
                initial_point=initial_point,
                show_progress=show_progress,
                step_size=step_size,
                precision=precision,
                r_precision=r_precision,
                max_steps=max_steps,
            )
        strata = None
        if self.strata is not None:
            strata = pd.factorize(X.index)[0]
        T = np.asarray(T, dtype=float)
        if len(T) and T.min() < 0:  # lifelines allows any real durations; only their order counts
            T = T - T.min()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                fit = cox_fit(
                    X,
                    T,
                    np.asarray(E, dtype=float),
                    weights=np.asarray(weights, dtype=float),
                    strata=strata,
                    ties="efron",
                    penalizer=float(self.penalizer),
                    init=initial_point,
                    tol=min(r_precision, 1e-9),
                    max_iter=int(max_steps),
                )
            except ModelError as err:
                self._check_values_post_fitting(X, T, E, weights)
                raise exceptions.ConvergenceError(
                    "Convergence halted due to matrix inversion problems. Suspicion is high "
                    f"collinearity. {CONVERGENCE_DOCS}",
                    err,
                ) from err
        if any(issubclass(r.category, (SeparationWarning, ConvergenceWarning)) for r in caught):
            self._check_values_post_fitting(X, T, E, weights)  # lifelines' diagnosis first
        for rec in caught:
            if issubclass(rec.category, SeparationWarning):
                warnings.warn(
                    f"{rec.message} Newton-Raphson stopped with norm(delta) still high: this may "
                    "imply non-unique solutions to the maximum likelihood. There may be complete "
                    "separation in the dataset. This may result in incorrect inference of "
                    "coefficients. See https://stats.stackexchange.com/q/11109/11867 for more.",
                    EngineSeparationWarning,
                    stacklevel=6,
                )
            elif issubclass(rec.category, ConvergenceWarning):
                warnings.warn(
                    f"Newton-Raphson failed to converge sufficiently. {CONVERGENCE_DOCS}",
                    exceptions.ConvergenceWarning,
                    stacklevel=6,
                )
            else:
                warnings.warn_explicit(rec.message, rec.category, rec.filename, rec.lineno)
        self.engine_fit_ = fit
        self._ll_null_ = fit.loglik_null
        beta = np.nan_to_num(fit.params, nan=0.0)
        penalty = 0.5 * float(self.penalizer) * len(X) * float(beta @ beta)
        hessian = -np.nan_to_num(fit.information, nan=0.0)
        return beta, fit.loglik - penalty, hessian


class EngineCoxPHFitter(CoxPHFitter):
    """A ``lifelines.CoxPHFitter`` whose Efron Newton-Raphson runs on :func:`cox_fit`.

    Use it exactly like ``CoxPHFitter`` (``fit(df, duration_col, event_col, weights_col=,
    strata=, robust=)``, ``summary``, ``predict_survival_function``...). The fitted
    :class:`~workbench.survival.engine.CoxFit` is kept as ``engine_fit_`` (on lifelines'
    normalised covariates).

    Examples
    --------
    >>> from workbench.data import simulate
    >>> frame, _ = simulate(2_000, seed=1, tenure_unit="days")
    >>> df = frame[["tenure", "churned", "age", "n_products"]]
    >>> cph = EngineCoxPHFitter().fit(df, "tenure", "churned")
    >>> list(cph.summary.index)
    ['age', 'n_products']
    """

    def _fit_model_breslow(self, *args, **kwargs):
        if self.baseline_estimation_method != "breslow":  # pragma: no cover - guarded by lifelines
            return super()._fit_model_breslow(*args, **kwargs)
        model = _EngineSemiParametricPHFitter(
            penalizer=self.penalizer,
            l1_ratio=self.l1_ratio,
            strata=self.strata,
            alpha=self.alpha,
            label=self._label,
        )
        model.fit(*args, **kwargs)
        return model
