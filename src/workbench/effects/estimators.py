"""Effect estimators for one arm against control, on arrays (the study object assembles them).

* :func:`km_contrast`: unadjusted Kaplan-Meier contrasts, Greenwood / RMST variances, log-rank test;
* :class:`IPWStatistic`: (re)fits the propensity model on a resample, weights, weighted KM per arm,
  survival at horizons, RMST, marginal hazard ratio, curve on a grid - the bootstrap statistic;
* :func:`aipw_contrast`: augmented IPW (doubly robust) on KM pseudo-values with a per-arm Cox
  outcome model; influence-function standard errors.

References
----------
Cole, S. R. & Hernan, M. A. (2004). Adjusted survival curves with inverse probability weights.
Computer Methods and Programs in Biomedicine 75, 45-49.
Andersen, P. K., Syriopoulou, E. & Parner, E. T. (2017). Causal inference in survival analysis using
pseudo-observations. Statistics in Medicine 36, 2669-2681.
Robins, J. M., Rotnitzky, A. & Zhao, L. P. (1994). Estimation of regression coefficients when some
regressors are not always observed. JASA 89, 846-866.
Tsiatis, A. A., Davidian, M., Zhang, M. & Lu, X. (2008). Covariate adjustment for two-sample treatment
comparisons in randomized clinical trials. Statistics in Medicine 27, 4658-4677.
"""

from __future__ import annotations

import numpy as np

from ..survival.kernels import km_estimate, rmst_from_curve
from .outcome import fit_outcome
from .propensity import fit_logistic_irls
from .pseudo import greenwood_var, km_curve, pseudo_values, rmst_and_variance, step_at
from .weights import balancing_weights


def km_contrast(duration, event, treated, horizons, tau):
    """Unadjusted KM contrasts. Returns dict of arrays: s1, s0, v1, v0 (at horizons), r1, r0, rv1, rv0."""
    out = {}
    for label, mask in (("1", treated == 1), ("0", treated == 0)):
        t, s, y, d, gw = km_curve(duration[mask], event[mask])
        v = greenwood_var(s, gw)
        out["s" + label] = step_at(t, s, horizons)
        out["v" + label] = step_at(t, v, horizons, start=0.0)
        out["r" + label], out["rv" + label] = rmst_and_variance(t, s, y, d, tau)
        out["curve" + label] = (t, s, v, y)
    return out


def cox_hr(duration, event, treated, weights=None) -> tuple[float, float]:
    """Log hazard ratio of arm vs control from a Cox model with the arm indicator only, and its SE."""
    from ..survival.engine import cox_fit

    X = np.asarray(treated, dtype=float)[:, None]
    fit = cox_fit(
        X,
        np.asarray(duration, dtype=float),
        np.asarray(event, dtype=float),
        weights=weights,
        ties="breslow",
    )
    return float(fit.params[0]), float(fit.se[0])


def robust_cox_hr(duration, event, treated, weights) -> tuple[float, float]:
    """Weighted Cox log HR (Efron ties) with the robust (sandwich) SE, as ``coxph(weights=, robust=TRUE)``.

    Runs on the package's fast Cox engine (:func:`workbench.survival.engine.cox_fit`).
    """
    from ..survival.engine import cox_fit

    X = np.asarray(treated, dtype=float)[:, None]
    fit = cox_fit(
        X,
        np.asarray(duration, dtype=float),
        np.asarray(event, dtype=float),
        weights=weights,
        robust=True,
    )
    return float(fit.params[0]), float(fit.se[0])


class IPWStatistic:
    """The IPW estimate as a function of resampling frequencies (picklable, for the bootstrap).

    Output vector: S_arm(horizons), S_control(horizons), RMST_arm, RMST_control, log HR, then the two
    curves on ``grid`` (arm, control).
    """

    def __init__(
        self,
        X,
        treated,
        duration,
        event,
        *,
        weighting,
        trim,
        horizons,
        tau,
        grid,
        beta,
        with_hr: bool = True,
        refit: bool = True,
        newton_steps: int = 3,
        score=None,
    ):
        self.X = np.ascontiguousarray(X, dtype=float)
        self.treated = np.asarray(treated, dtype=float)
        self.duration = np.asarray(duration, dtype=float)
        self.event = np.asarray(event, dtype=float)
        self.weighting, self.trim = weighting, trim
        self.horizons = np.atleast_1d(np.asarray(horizons, dtype=float))
        self.tau, self.grid = float(tau), np.asarray(grid, dtype=float)
        self.beta, self.with_hr, self.refit = beta, with_hr, refit
        self.newton_steps = int(newton_steps)
        # a fixed score (e.g. cross-fitted gradient boosting) is held fixed in every replicate
        self.score = None if score is None else np.asarray(score, dtype=float)
        self.m1 = self.treated == 1
        self._b0 = 0.0  # warm start of the hazard-ratio fit in every replicate

    def weights(self, freq):
        if self.weighting == "none":
            return np.ones(len(self.treated))
        if self.score is not None:
            return balancing_weights(
                self.score, self.treated, self.weighting, trim=self.trim, freq=freq
            )
        if self.refit and freq is not None:
            # Newton steps warm-started at the full-sample fit (frequency-weighted);
            # from a start O(n^-1/2) away, three steps reach the converged fit to ~1e-8.
            beta = fit_logistic_irls(
                self.X, self.treated, freq, start=self.beta, max_iter=self.newton_steps, tol=1e-7
            )
        else:
            beta = self.beta
        e = 1.0 / (1.0 + np.exp(-np.clip(self.X @ beta, -30, 30)))
        return balancing_weights(e, self.treated, self.weighting, trim=self.trim, freq=freq)

    def log_hr(self, w) -> float:
        """Weighted Breslow log hazard ratio of the arm, by the one Cox engine (warm start)."""
        import warnings

        from ..survival.engine import cox_fit

        keep = w > 0  # bootstrap frequencies of 0: the customer is not in this replicate
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a replicate's non-convergence shows as a wide CI
            try:
                fit = cox_fit(
                    self.treated[keep][:, None],
                    self.duration[keep],
                    self.event[keep],
                    weights=w[keep],
                    ties="breslow",
                    init=[self._b0],
                )
            except Exception:  # an arm without events in this replicate
                return float("nan")
        return float(fit.params[0])

    def __call__(self, freq=None):
        f = np.ones(len(self.treated)) if freq is None else np.asarray(freq, dtype=float)
        w = self.weights(f) * f
        out = []
        curves = []
        rm = []
        for mask in (self.m1, ~self.m1):
            r = km_estimate(self.duration[mask], self.event[mask], w[mask])
            times, s = r["time"], r["survival"]
            out.append(step_at(times, s, self.horizons))
            rm.append(rmst_from_curve(times, s, self.tau))
            curves.append(step_at(times, s, self.grid))
        hr = self.log_hr(w) if self.with_hr else np.nan
        return np.concatenate([out[0], out[1], rm, [hr], curves[0], curves[1]])


def aipw_contrast(
    duration, event, treated, score, Xc, horizons, tau, *, trim=None, folds=None, names=None
):
    """Augmented IPW for S(h) and RMST(tau) of arm and control, with influence functions.

    Outcomes are the pooled KM pseudo-values (valid under censoring independent of arm and
    covariates, e.g. administrative censoring by the analysis date); the outcome model is a Cox model
    per arm on ``Xc``; ``score`` is P(arm | x). ``folds`` (one fold label per row) cross-fits the
    outcome model: each fold's predictions come from the model fitted on the other folds (with a
    cross-fitted ``score``, as for a machine-learning propensity). Returns (psi1, psi0, phi1, phi0)
    with ``phi`` the centred influence values (n x k), k = len(horizons) + 1.
    """
    P, _ = pseudo_values(duration, event, horizons, tau)
    t = np.asarray(treated, dtype=float)
    e = np.clip(np.asarray(score, dtype=float), trim or 0.0, 1 - (trim or 0.0))
    m = {}
    parts = [None] if folds is None else list(np.unique(folds))
    for a, mask in ((1, t == 1), (0, t == 0)):
        m[a] = np.empty((len(t), len(np.atleast_1d(horizons)) + 1))
        for k in parts:
            train = mask if k is None else mask & (folds != k)
            rows = slice(None) if k is None else folds == k
            keep = _varying_columns(Xc[train])
            terms = None if names is None else [n for n, k in zip(names, keep) if k]
            fit = fit_outcome(duration[train], event[train], Xc[train][:, keep], names=terms)
            Xa = Xc[rows][:, keep]
            m[a][rows] = np.column_stack([fit.survival(Xa, horizons), fit.rmst(Xa, tau)])
    a1 = m[1] + (t / e)[:, None] * (P - m[1])
    a0 = m[0] + ((1 - t) / (1 - e))[:, None] * (P - m[0])
    psi1, psi0 = a1.mean(axis=0), a0.mean(axis=0)
    return psi1, psi0, a1 - psi1, a0 - psi0


def _varying_columns(X: np.ndarray) -> np.ndarray:
    if X.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    return X.std(axis=0) > 1e-12
