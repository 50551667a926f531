"""``fit_cox`` with delayed entry or ``(start, stop]`` rows: the counting-process path.

Everything numerical runs in the one Cox engine (:func:`workbench.survival.engine.cox_fit` with
``entry=``): coefficients, the inverse information, the robust (sandwich) variance summed by
customer, and the baseline cumulative hazard. This module only resolves the columns and builds the
:class:`~workbench.survival.cox.CoxResult`. Reference: R ``coxph(Surv(start, stop, event) ~ x,
cluster = id)`` (``tests/reference/histories``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_alpha
from ..columns import fingerprint_of
from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    ModelError,
    ParameterError,
    SeparationWarning,
    SmallSampleWarning,
)
from ._design import (
    MIN_EVENTS_PER_PARAMETER,
    _build_design,
    _check_columns,
    _column,
    _drop_missing,
    _duration_array,
    _event_array,
    _resolve_frame,
    _strata_codes,
    _warn,
    hazard_ratio_table,
)
from .profile import with_profile_intervals

TIES = ("efron", "breslow")


def fit_cox_counting(
    data: Any,
    *,
    duration_col=None,
    event_col=None,
    covariates,
    reference=None,
    strata=None,
    cluster_col=None,
    weights_col=None,
    ties="efron",
    penalizer=0.0,
    alpha=0.05,
    max_iter=50,
    entry_col=None,
    start_col=None,
    stop_col=None,
    id_col=None,
    firth=False,
    frequency_weights=False,
):
    """See :func:`workbench.survival.fit_cox` (``entry_col`` / ``start_col, stop_col, id_col``)."""
    from .cox import CoxResult
    from .engine import cox_fit

    frame, spec = _resolve_frame(data)
    alpha = check_alpha(alpha)
    if ties not in TIES:
        raise ParameterError(f"`ties` must be one of {TIES}, got {ties!r}.")
    counting = start_col is not None or stop_col is not None
    if counting:
        if entry_col is not None:
            raise ParameterError(
                "pass either `entry_col` (one row per customer, delayed entry) or `start_col`/"
                "`stop_col` ((start, stop] rows), not both."
            )
        if start_col is None or stop_col is None:
            raise ParameterError(
                "(start, stop] rows need both `start_col` and `stop_col` (e.g. the 'start' and "
                "'stop' columns of workbench.data.events.build_intervals)."
            )
        if duration_col is not None and duration_col != stop_col:
            raise ParameterError(
                "with `stop_col`, leave `duration_col` unset (stop is the exit time)."
            )
        duration_col, entry_col = stop_col, start_col
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(dict.fromkeys(covariates or []))
    if not covariates:
        raise ParameterError("`covariates` must be a non-empty list of column names.")
    duration_col = _column(frame, spec, duration_col, argument="duration_col", role="tenure")
    event_col = _column(frame, spec, event_col, argument="event_col", role="event")
    _check_columns(frame, [entry_col], argument="start_col" if counting else "entry_col")
    _check_columns(frame, covariates, argument="covariates")
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    _check_columns(frame, strata_cols, argument="strata")
    if id_col is not None:
        _check_columns(frame, [id_col], argument="id_col")
        if cluster_col is not None and cluster_col != id_col:
            raise ParameterError("give the customer id once: `id_col` or `cluster_col`, not both.")
        cluster_col = id_col
    if cluster_col is not None:
        _check_columns(frame, [cluster_col], argument="cluster_col")
    if weights_col is not None:
        _check_columns(frame, [weights_col], argument="weights_col")
    messages: list[str] = []
    exclusions: list[dict] = []
    n_received = len(frame)
    used = [duration_col, event_col, entry_col, *covariates, *strata_cols, cluster_col, weights_col]
    frame = _drop_missing(frame, used, messages, exclusions)
    if len(frame) == 0:
        raise ModelError("no rows left after excluding missing values.")
    time = _duration_array(frame, duration_col)
    event = _event_array(frame, event_col)
    if counting:
        entry = pd.to_numeric(frame[entry_col], errors="coerce").to_numpy(float)
    else:
        from ..columns import entry_array

        entry = entry_array(frame, entry_col, time, func="fit_cox")
    if id_col is not None and not counting:
        dup = frame[id_col].duplicated()
        if dup.any():
            raise ParameterError(
                f"`id_col` {id_col!r} repeats for {int(dup.sum()):,} row(s): with several rows per "
                "customer pass them as (start, stop] rows (`start_col`, `stop_col`)."
            )
    same = ~(entry < time)
    if same.any():
        if counting:
            raise ParameterError(
                f"`start_col` {entry_col!r} must be before `stop_col` {duration_col!r} on every row; "
                f"{int(same.sum()):,} row(s) are not (first row positions: "
                f"{np.flatnonzero(same)[:5].tolist()}). Drop zero-length intervals."
            )
        # entry == exit: never at risk (R drops these rows with a warning as well)
        msg = (
            f"fit_cox: {int(same.sum()):,} customer(s) leave at the tenure they enter "
            f"({entry_col!r} == {duration_col!r}); they are never at risk and add nothing."
        )
        _warn(messages, msg, SmallSampleWarning)
        exclusions.append({"rule": "entry == exit", "n_rows": int(same.sum())})
        keep = ~same
        frame, time, event, entry = frame.loc[keep], time[keep], event[keep], entry[keep]
    n_events = int(event.sum())
    if n_events == 0:
        raise ModelError(f"no events in {event_col!r}: a Cox model needs churners.")
    design = _build_design(frame, covariates, reference)
    p = len(design.terms)
    if n_events / p < MIN_EVENTS_PER_PARAMETER:
        _warn(
            messages,
            f"Only {n_events} events for {p} model terms: estimates may be biased and intervals "
            "too narrow. Use fewer covariates.",
            SmallSampleWarning,
        )
    strata_codes = None
    if strata_cols:
        codes, labels = _strata_codes(frame, strata_cols)
        strata_codes = np.asarray(labels, dtype=object)[codes]
    w = None
    if weights_col is not None:
        w = pd.to_numeric(frame[weights_col], errors="coerce").to_numpy(float)
    cl = frame[cluster_col].to_numpy() if cluster_col is not None else None
    X = pd.DataFrame(design.X, columns=design.terms)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = cox_fit(
            X,
            time,
            event,
            entry=entry,
            weights=w,
            strata=strata_codes,
            ties=ties,
            penalizer=penalizer,
            max_iter=max_iter,
            cluster=cl,
            firth=firth,
            keep_data=firth,
            frequency_weights=frequency_weights,
        )
    for c in caught:  # the engine's caveats are the fit's caveats: re-raised, and listed
        if issubclass(c.category, (ConvergenceWarning, CollinearityWarning, SeparationWarning)):
            _warn(messages, str(c.message), c.category)
    beta, se = fit.params, fit.se
    summary = hazard_ratio_table(design.terms, design.term_covariate, beta, se, alpha)
    if firth:
        summary = with_profile_intervals(summary, fit, alpha)
    base = fit.baseline.to_frame()
    base["stratum"] = base["stratum"].map(lambda s: "all" if s is None else str(s))
    layout = "(start, stop] rows" if counting else "delayed entry"
    meta = {
        "n": int(len(np.unique(cl))) if counting and cl is not None else int(len(frame)),
        "rows": int(len(frame)),
        "events": n_events,
        "alpha": alpha,
        "ties": ties,
        "method": f"Cox proportional hazards ({ties} ties, {layout}"
        + (", stratified" if strata_cols else "")
        + (", robust SE by customer" if cl is not None else "")
        + (", Firth penalty, profile penalised-likelihood CIs" if firth else "")
        + ")",
        "concordance": None,
        "loglik": fit.loglik,
        "loglik_null": fit.loglik_null,
        "aic": -2 * fit.loglik + 2 * p,
        "lr_statistic": fit.lr_test["statistic"],
        "lr_df": p,
        "lr_p_value": fit.lr_test["p_value"],
        "exclusions": exclusions,
        "n_received": n_received,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
        "strata": strata_cols,
        "cluster_col": cluster_col,
        "n_clusters": int(len(np.unique(cl))) if cl is not None else None,
        "variance": "robust sandwich" if cl is not None else "model-based (inverse information)",
        "naive_se": np.sqrt(np.diag(fit.naive_variance)).tolist(),
        "weights_col": weights_col,
        "penalizer": penalizer,
        "penalised_loglik": fit.penalised_loglik if firth else None,  # Firth's penalty
        "reference_levels": {c: v["reference"] for c, v in design.levels.items()},
        "duration_col": duration_col,
        "event_col": event_col,
        "entry_col": entry_col,
        "layout": layout,
    }
    meta["fingerprint"] = fingerprint_of(data, frame, used)
    state = {
        "beta": beta,
        "var": fit.variance,
        "naive_var": fit.naive_variance,
        "terms": design.terms,
        "term_covariate": design.term_covariate,
        "levels": design.levels,
        "term_level": design.term_level,
        "covariates": covariates,
        "means": fit.center,
        "baseline": base,
        "strata_cols": strata_cols,
        "entry": entry,
    }
    return CoxResult(summary, meta, warnings=messages, fit_state=state)
