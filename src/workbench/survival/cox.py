"""Cox proportional-hazards regression with diagnostics.

:func:`fit_cox` fits ``h(t | x) = h0_s(t) exp(x @ beta)`` on the one Cox engine
(:mod:`workbench.survival.engine`: ties, strata, weights, robust variance, a ridge or Firth penalty)
into a :class:`CoxResult`: hazard ratios with intervals, concordance, R ``cox.zph``'s test,
predictions and a forest plot. Cause-specific models: :mod:`workbench.survival.cause_specific`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..aggregate.dataset import from_counts, is_aggregated, is_table_source
from ..checks import check_alpha as _check_alpha
from ..columns import fingerprint_of
from ..exceptions import (
    ConvergenceWarning,
    DataValidationError,
    ModelError,
    ParameterError,
    SeparationWarning,
    SmallSampleWarning,
)
from ..results import Deferred, Result
from ._design import (
    MIN_EVENTS_PER_PARAMETER,
    _build_design,
    _check_columns,
    _column,
    _drop_degenerate,
    _drop_missing,
    _duration_array,
    _event_array,
    _new_design,
    _resolve_frame,
    _single_thread,
    _strata_codes,
    _warn,
    hazard_ratio_table,
)
from .concordance import concordance_of_fit
from .diagnostics import PHTestResult, ph_test
from .engine import _cox_fit
from .profile import with_profile_intervals

__all__ = ["CoxResult", "PHTestResult", "fit_cox"]

TIES = ("efron", "breslow")


class CoxResult(Result):
    """A fitted Cox model: ``summary`` has one row per model term.

    Columns: ``term``, ``covariate``, ``estimate`` (log hazard ratio), ``se``, ``ci_lower`` /
    ``ci_upper`` (its interval, log scale like ``estimate``), ``hazard_ratio`` with ``hr_ci_lower``
    / ``hr_ci_upper`` (the same interval exponentiated), ``statistic`` (Wald z) and ``p_value``.
    Attributes ending in ``_`` hold the fit: ``params_``, ``variance_``, ``baseline_cumulative_hazard_``.

    Harrell's concordance (``meta["concordance"]``, ``concordance_``) is computed on the first access
    to ``meta`` (an O(n log n) pass, about a fifth of the fit at a million customers), as lifelines'
    ``concordance_index_``: reports, ``to_record()``, ``ph_test()`` and printing all read it.
    """

    title = "Cox proportional-hazards model"

    def __init__(self, summary, meta, *, warnings, fit_state: dict):
        pending = fit_state.pop("concordance_args", None)
        super().__init__(summary, meta, warnings=warnings)
        if pending is not None:  # computed on first read of meta
            self._meta["concordance"] = Deferred(pending)
        self._state = fit_state
        self.params_ = pd.Series(fit_state["beta"], index=fit_state["terms"], name="log_hr")
        self.variance_ = pd.DataFrame(
            fit_state["var"], index=fit_state["terms"], columns=fit_state["terms"]
        )
        self.baseline_cumulative_hazard_ = fit_state["baseline"]
        self._ph: dict[str, PHTestResult] = {}

    @property
    def concordance_(self) -> float:
        """Harrell's C of the linear predictor (R ``concordance(fit)``; pairs within strata)."""
        return self.meta["concordance"]

    # -------------------------------------------------------------------------------------------
    @_single_thread
    def ph_test(self, transform: str = "km") -> PHTestResult:
        """Test proportional hazards per covariate and globally, as R ``survival::cox.zph``.

        The score test of adding ``g(t) * x`` to the model (Grambsch & Therneau 1994), with
        ``g`` the chosen transform of tenure (``'km'``: one minus the left-continuous Kaplan-Meier
        estimate, R's default; ``'rank'``, ``'identity'``, ``'log'``). A categorical covariate gets
        one row with as many degrees of freedom as it has dummy terms (R's ``terms=TRUE``).
        When a p-value is below ``alpha`` a :class:`ProportionalHazardsWarning` names the
        covariates and suggests remedies; it is also added to ``result.warnings``.

        References
        ----------
        Grambsch, P. M. & Therneau, T. M. (1994). Proportional hazards tests and diagnostics based on
        weighted residuals. Biometrika 81(3), 515-526.
        """
        if self._state.get("entry") is not None:
            raise ParameterError(
                "ph_test is not available for a fit with delayed entry or (start, stop] rows yet; "
                "check proportional hazards on a model without entry, or add time interactions."
            )
        if transform not in self._ph:
            res = ph_test(self._state, self.meta, transform)
            for msg in res.warnings:
                if msg not in self.warnings:
                    self.warnings.append(msg)
            self._ph[transform] = res
        return self._ph[transform]

    # -------------------------------------------------------------------------------------------
    def predict_linear(self, data: Any) -> np.ndarray:
        """Linear predictor ``x @ beta`` (centred at the fitting data's means) for new customers."""
        frame, _ = _resolve_frame(data)
        s = self._state
        X = _new_design(frame, s)
        return (X - s["means"]) @ s["beta"]

    def predict_survival(
        self, data: Any, times: Sequence[float], *, chunk_size: int = 100_000
    ) -> pd.DataFrame:
        """Predicted survival ``S(t | x) = exp(-H0_s(t) exp(x @ beta))`` at ``times`` for each row of ``data``.

        Uses the Breslow (or, with Efron ties, the Efron-corrected) baseline cumulative hazard of
        R ``survfit.coxph``; rows are processed in chunks of ``chunk_size``. With strata, ``data``
        must hold the strata columns. Returns a DataFrame with one column per time, index as ``data``.
        """
        frame, _ = _resolve_frame(data)
        times = np.atleast_1d(np.asarray(times, dtype=float))
        if times.size == 0 or not np.all(np.isfinite(times)) or (times < 0).any():
            raise ParameterError(f"`times` must be non-negative finite numbers, got {list(times)}.")
        s = self._state
        base = self.baseline_cumulative_hazard_
        if s["strata_cols"]:
            _check_columns(frame, s["strata_cols"], argument="strata")
            codes, labels = _strata_codes(frame, s["strata_cols"])
            keys = np.asarray(labels, dtype=object)[codes]
            unknown = sorted(set(keys) - set(base["stratum"]))
            if unknown:
                raise ParameterError(
                    f"strata {unknown[:5]} were not in the fitting data; "
                    f"known strata: {sorted(base['stratum'].unique())[:10]}."
                )
        else:
            keys = np.full(len(frame), "all")
        H = {}
        for key, b in base.groupby("stratum"):
            idx = np.searchsorted(b["time"].to_numpy(), times, side="right") - 1
            ch = b["cumulative_hazard"].to_numpy()
            H[key] = np.where(idx >= 0, ch[np.clip(idx, 0, None)], 0.0)
        out = np.empty((len(frame), times.size))
        for start in range(0, len(frame), chunk_size):
            sl = slice(start, start + chunk_size)
            lp = self.predict_linear(frame.iloc[sl])
            Hc = (
                np.vstack([H[k] for k in keys[sl]])
                if len(set(keys[sl])) > 1
                else np.tile(H[keys[sl][0]], (len(lp), 1))
                if len(lp)
                else np.empty((0, times.size))
            )
            out[sl] = np.exp(-Hc * np.exp(lp)[:, None])
        return pd.DataFrame(out, index=frame.index, columns=times)

    def plot(self, ax=None, **kwargs):
        """Forest plot of the hazard ratios with their confidence intervals."""
        from ..plotting.cox import plot_forest

        return plot_forest(self, ax=ax, **kwargs)


# ============================================================================== public functions
def fit_cox(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    covariates: Sequence[str],
    reference: dict | None = None,
    strata: Sequence[str] | str | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    penalizer: float = 0.0,
    alpha: float = 0.05,
    max_iter: int = 50,
    entry_col: str | None = None,
    start_col: str | None = None,
    stop_col: str | None = None,
    id_col: str | None = None,
    firth: bool = False,
    frequency_weights: bool = False,
) -> CoxResult:
    """Fit a Cox proportional-hazards model of churn.

    Parameters
    ----------
    data : Dataset or DataFrame
        One row per customer.
    duration_col, event_col : str, optional
        Tenure and churned (0/1) columns; default from ``data.spec`` (``tenure``, ``event``).
    covariates : list of str
        Columns to model. Numeric columns enter as they are; categorical columns (``object``,
        ``category``, ``bool``) are dummy-coded, one term ``"<column>[<level>]"`` per non-reference
        level.
    reference : dict, optional
        ``{column: level}``: the reference level of a categorical covariate. Default: the first
        category of a ``category`` column (its declared order), ``False`` for a ``bool`` column and
        the most frequent level of an ``object`` column (ties broken alphabetically).
    strata : str or list of str, optional
        Columns whose combinations get separate baseline hazards (R ``strata()``).
    cluster_col : str, optional
        Cluster identifier: standard errors become the cluster-robust sandwich of R
        ``coxph(..., cluster=)`` (Lin & Wei 1989).
    weights_col : str, optional
        Non-negative case weights (R ``weights=``). Without ``cluster_col`` the model-based variance
        is reported, as R does.
    ties : {'efron', 'breslow'}
        Handling of tied tenures.
    penalizer : float
        Ridge penalty ``0.5 * n * penalizer * sum((beta_j * sd_j)^2)`` on the standardised scale
        (lifelines' ``CoxPHFitter(penalizer=...)`` convention); 0 = none. Standard errors are then
        the inverse of the penalised information.
    alpha : float
        ``1 - alpha`` confidence intervals; also the level of the proportional-hazards check.
    max_iter : int
        Newton-Raphson iterations before a :class:`ConvergenceWarning` (R ``iter.max``).
    firth : bool
        Firth's penalised likelihood ``l(beta) + 0.5 log det I(beta)`` (Heinze & Schemper 2001):
        finite estimates when a covariate separates churners from stayers (the remedy a
        :class:`SeparationWarning` suggests); any ``ties``, strata, weights, entry; not with
        ``penalizer``. Profile penalised-likelihood intervals and LR test (as R ``coxphf``).
    entry_col : str, optional
        Delayed entry (left truncation): tenure at which each customer came under observation;
        risk sets start there (R ``coxph(Surv(entry, tenure, churn) ~ ...)``).
    start_col, stop_col, id_col : str, optional
        Counting-process layout: several ``(start, stop]`` rows per customer with time-varying
        covariates (e.g. from :func:`workbench.data.events.build_intervals`); ``event_col`` is 1 on
        the row ending in churn; ``id_col`` gives robust SEs by customer (R
        ``coxph(Surv(start, stop, event) ~ ..., cluster = id)``). With any of these the fit runs
        entirely in the Cox engine; ``ph_test`` is not available for it.
    frequency_weights : bool
        ``weights_col`` holds whole numbers of identical customers per row (e.g. the counts of
        :func:`workbench.aggregate.counts`): Efron's tie correction then runs over the customers,
        so the fit equals the one on the expanded rows (the engine's ``frequency_weights``).
        Default False: R's weighted Efron (one step per tied row with their mean weight).

    Returns
    -------
    CoxResult
        ``.summary`` (term, covariate, estimate, se, ci_lower, ci_upper on the log scale,
        hazard_ratio, hr_ci_lower, hr_ci_upper, statistic, p_value), ``.meta`` (n, events, alpha, ties, concordance, loglik, aic, exclusions, method,
        ...), ``.ph_test()``, ``.predict_survival()``, ``.plot()``.

    Raises
    ------
    ParameterError
        Unknown columns, an unknown reference level, bad ``ties`` / ``alpha`` / ``penalizer``.
    DataValidationError
        Negative tenure, a non-binary event column, negative weights.
    ModelError
        No events, or no estimable term.

    Warns
    -----
    RowsExcludedWarning, CollinearityWarning, ConvergenceWarning, SeparationWarning, SmallSampleWarning
        Each also listed in ``result.warnings``.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=2_000, seed=1)
    >>> res = fit_cox(ds, covariates=["contract", "monthly_charge"])
    >>> list(res.summary["term"])
    ['contract[one_year]', 'contract[two_year]', 'monthly_charge']

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. JRSS B 34(2), 187-220.
    Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA 72, 557-565.
    Lin, D. Y. & Wei, L. J. (1989). The robust inference for the Cox proportional hazards model.
    JASA 84, 1074-1078.
    Therneau, T. M. & Grambsch, P. M. (2000). Modeling Survival Data: Extending the Cox Model. Springer.
    Heinze, G. & Schemper, M. (2001). A solution to the problem of monotone likelihood in Cox
    regression. Biometrics 57, 114-119.
    """
    if is_aggregated(data) or is_table_source(data):  # cell counts: categorical covariates
        return from_counts(
            data,
            "fit_cox",
            duration_col=duration_col,
            event_col=event_col,
            not_from_counts={
                "cluster_col": cluster_col,
                "weights_col": weights_col,
                "penalizer": penalizer,
                "start_col": start_col,
                "stop_col": stop_col,
                "id_col": id_col,
                "frequency_weights": frequency_weights,
            },
            covariates=list(covariates),
            reference=reference,
            strata=strata,
            ties=ties,
            alpha=alpha,
            max_iter=max_iter,
            entry_col=entry_col,
            firth=firth,
        )
    if entry_col is not None or start_col is not None or stop_col is not None or id_col is not None:
        kwargs = dict(locals())
        from ._counting import fit_cox_counting

        return fit_cox_counting(**kwargs)
    del entry_col, start_col, stop_col, id_col
    return _fit_cox(**locals())


@_single_thread
def _fit_cox(
    data,
    *,
    duration_col,
    event_col,
    covariates,
    reference,
    strata,
    cluster_col,
    weights_col,
    ties,
    penalizer,
    alpha,
    max_iter=50,
    firth=False,
    frequency_weights=False,
) -> CoxResult:
    frame, spec = _resolve_frame(data)
    alpha = _check_alpha(alpha)
    if ties not in TIES:
        raise ParameterError(f"`ties` must be one of {TIES}, got {ties!r}.")
    try:
        penalizer = float(penalizer)
    except (TypeError, ValueError):
        penalizer = float("nan")
    if not (penalizer >= 0 and math.isfinite(penalizer)):
        raise ParameterError(
            f"`penalizer` must be a number >= 0, got {penalizer!r}; 0 means no penalty."
        )
    if isinstance(covariates, str):
        covariates = [covariates]
    if not isinstance(covariates, Sequence) or len(covariates) == 0:
        raise ParameterError(
            f"`covariates` must be a non-empty list of column names, got {covariates!r}."
        )
    covariates = list(dict.fromkeys(covariates))
    duration_col = _column(frame, spec, duration_col, argument="duration_col", role="tenure")
    event_col = _column(frame, spec, event_col, argument="event_col", role="event")
    _check_columns(frame, covariates, argument="covariates")
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    _check_columns(frame, strata_cols, argument="strata")
    overlap = set(strata_cols) & set(covariates)
    if overlap:
        raise ParameterError(
            f"{sorted(overlap)} appear in both `covariates` and `strata`; a stratified "
            "variable has no hazard ratio. Keep it in one of the two."
        )
    if cluster_col is not None:
        _check_columns(frame, [cluster_col], argument="cluster_col")
    if weights_col is not None:
        _check_columns(frame, [weights_col], argument="weights_col")

    messages: list[str] = []
    exclusions: list[dict] = []
    n_received = len(frame)
    # tenure and churn are checked, not dropped: missing, text, infinite, negative or 1/2-coded
    # values are refused below with the column named
    used = [*covariates, *strata_cols, cluster_col, weights_col]
    frame = _drop_missing(frame, used, messages, exclusions)
    if len(frame) == 0:
        raise ModelError(
            "no rows left after excluding missing values; check the covariates for missing data."
        )
    time = _duration_array(frame, duration_col)
    event = _event_array(frame, event_col)
    if weights_col is not None:
        w = pd.to_numeric(frame[weights_col], errors="coerce").to_numpy(dtype=float)
        if (~np.isfinite(w)).any() or (w < 0).any():
            raise DataValidationError(
                f"`weights_col` {weights_col!r} must be finite and >= 0; found "
                f"{int(((~np.isfinite(w)) | (w < 0)).sum())} bad value(s).",
                column=weights_col,
                rule="non_negative",
            )
    else:
        w = np.ones(len(frame))
    n_events = int(event.sum())
    if n_events == 0:
        raise ModelError(
            f"no events: every customer is censored in {event_col!r} (n={len(frame):,}); "
            "a Cox model needs churners. Check the event column or the cause."
        )
    strata_codes, strata_labels = _strata_codes(frame, strata_cols)

    design = _build_design(frame, covariates, reference)
    design = _drop_degenerate(design, strata_codes, messages)
    if not design.terms:
        raise ModelError(
            f"no estimable term left among covariates {covariates}; see the warnings above."
        )
    p = len(design.terms)
    if n_events / p < MIN_EVENTS_PER_PARAMETER:
        _warn(
            messages,
            f"Only {n_events} events for {p} model terms ({n_events / p:.1f} per term, fewer than "
            f"{MIN_EVENTS_PER_PARAMETER}): estimates may be biased and intervals too narrow. Use "
            "fewer covariates or merge categories.",
            SmallSampleWarning,
        )
    means = design.X.mean(axis=0)
    # R coxph: robust (sandwich) variance with a cluster, and also with non-integer case weights
    robust = cluster_col is not None or (weights_col is not None and bool(np.any(w != np.floor(w))))
    # rows of weight 0 add nothing to the partial likelihood (a slice, not a copy, when none)
    pos = slice(None) if weights_col is None or bool((w > 0).all()) else w > 0
    with warnings.catch_warnings(record=True) as caught:  # restated below in the model's terms
        warnings.simplefilter("always")
        fit = _cox_fit(
            design.X[pos],  # the engine centres (no extra copies)
            time[pos],
            event[pos],
            weights=None if weights_col is None else w[pos],  # unit weights: the fast path
            strata=None if strata_codes is None else strata_codes[pos],
            ties=ties,
            penalizer=penalizer,
            init=None,
            tol=1e-9,  # R coxph.control(eps=1e-9), as the engine
            max_iter=max_iter,
            robust=robust,
            cluster=pd.factorize(frame[cluster_col])[0][pos] if cluster_col is not None else None,
            return_residuals=False,
            names=design.terms,
            firth=firth,
            frequency_weights=frequency_weights,
        )
    for rec in caught:  # separation names the user's terms; other engine caveats are restated
        if issubclass(rec.category, SeparationWarning):
            _warn(messages, str(rec.message), SeparationWarning)
    if not fit.converged and not fit.separated:
        _warn(
            messages,
            f"The Cox fit did not converge after {fit.n_iter} Newton steps; estimates are not "
            "reliable. Check for covariates with extreme values or separation; try a penalizer.",
            ConvergenceWarning,
        )
    beta, var = fit.params, fit.variance
    with np.errstate(invalid="ignore", over="ignore"):
        se = np.sqrt(np.diag(var))  # inf for a coefficient heading to infinity (separation)
    summary = hazard_ratio_table(design.terms, design.term_covariate, beta, se, alpha)
    summary = with_profile_intervals(summary, fit, alpha) if firth else summary
    # the engine's baseline cumulative hazard, moved from its centre to the covariate means
    base = fit.baseline
    scale = math.exp(float((means - np.nan_to_num(base.center)) @ np.nan_to_num(beta)))
    baseline = pd.DataFrame(
        {
            "stratum": np.repeat(  # object labels: no fixed-width string array to convert
                np.array(
                    ["all"] if strata_codes is None else [strata_labels[c] for c in base.strata],
                    dtype=object,
                ),
                [len(t) for t in base.times],
            ),
            "time": np.concatenate(base.times),
            "cumulative_hazard": np.concatenate(base.cumhaz) * scale,
        }
    )
    # Harrell's C, computed when meta is first read: on the engine's rows (rows of weight 0 add
    # nothing to it), already in the order it needs (stratum, tenure descending)
    prob, beta_kept = fit._internals[0], np.nan_to_num(fit._internals[2])
    sorted_strata = None if strata_codes is None else strata_codes[pos][prob.order]
    concordance_args = functools.partial(concordance_of_fit, prob, beta_kept, sorted_strata)
    loglik = fit.loglik
    meta = {
        "n": int(len(frame)),
        "events": n_events,
        "alpha": alpha,
        "ties": ties,
        "method": f"Cox proportional hazards ({ties} ties"
        + (", stratified" if strata_cols else "")
        + (", cluster-robust SE" if cluster_col is not None else ", robust SE" if robust else "")
        + (f", ridge penalty {penalizer:g}" if penalizer else "")
        + (", Firth penalty, profile penalised-likelihood CIs" if firth else "")
        + ")",
        "concordance": None,  # filled on first access (CoxResult.meta)
        "loglik": loglik,
        "loglik_null": fit.loglik_null,
        "aic": -2 * loglik + 2 * p,
        "lr_statistic": fit.lr_test["statistic"],
        "lr_df": p,
        "lr_p_value": fit.lr_test["p_value"],
        "penalised_loglik": fit.penalised_loglik if firth else None,  # Firth's penalty
        "exclusions": exclusions,
        "n_received": n_received,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
        "strata": strata_cols,
        "n_strata": len(fit.baseline.strata),
        "cluster_col": cluster_col,
        "n_clusters": int(frame[cluster_col].nunique()) if cluster_col is not None else None,
        "variance": "robust sandwich" if robust else "model-based (inverse information)",
        "weights_col": weights_col,
        "penalizer": penalizer,
        "reference_levels": {c: v["reference"] for c, v in design.levels.items()},
        "dropped_terms": design.dropped,
        "duration_col": duration_col,
        "event_col": event_col,
    }
    meta["fingerprint"] = fingerprint_of(data, frame, [duration_col, event_col, *used])
    state = {
        "beta": beta,
        "var": var,
        "naive_var": fit.naive_variance,
        "fit": fit,
        "terms": design.terms,
        "term_covariate": design.term_covariate,
        "levels": design.levels,
        "term_level": design.term_level,
        "covariates": covariates,
        "means": means,
        "time": time[pos],
        "event": event[pos],
        "strata_labels": strata_labels,
        "baseline": baseline,
        "strata_cols": strata_cols,
        "concordance_args": concordance_args,
    }
    return CoxResult(summary, meta, warnings=messages, fit_state=state)
