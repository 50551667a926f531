"""Competing churn causes: cumulative incidence, Gray's test and Fine-Gray regression.

When customers leave for different reasons (competitor, price, service fault, ...), the chance of
having left *for a given reason* by tenure ``t`` is the cumulative incidence function (CIF)
``F_k(t) = P(T <= t, cause = k)``, not one minus a Kaplan-Meier curve that censors the other
causes. This module estimates it (Aalen-Johansen, R ``cmprsk::cuminc``, whose algorithm is followed
exactly) and holds the competing-risk input checks. Gray's test between groups is in
:mod:`workbench.survival.gray`, Fine-Gray regression in :mod:`workbench.survival.finegray`,
cause-specific Cox models in :mod:`workbench.survival.cause_specific`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..aggregate.dataset import from_counts
from ..checks import check_alpha as _check_alpha
from ..columns import fingerprint_of
from ..columns import frequency as _freq
from ..exceptions import (
    DataQualityWarning,
    ModelError,
    ParameterError,
    SmallSampleWarning,
)
from ..results import Result
from ._design import (
    _check_columns,
    _column,
    _drop_missing,
    _duration_array,
    _event_array,
    _resolve_frame,
    _warn,
)
from .kernels import distinct_sorted

__all__ = ["CumulativeIncidenceResult", "cumulative_incidence"]

UNKNOWN_CAUSE = "unknown"
MIN_GROUP_SIZE = 10  # groups smaller than this get a SmallSampleWarning


# ================================================================================================
# input
# ================================================================================================
def _competing_input(
    data, *, duration_col, event_col, cause_col, extra_cols, messages, exclusions, func
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
    """Rows, tenure, cause codes (0 = censored, 1..K) and the cause labels ``{code: label}``."""
    frame, spec = _resolve_frame(data)
    duration_col = _column(frame, spec, duration_col, argument="duration_col", role="tenure")
    event_col = _column(frame, spec, event_col, argument="event_col", role="event")
    cause_col = _column(frame, spec, cause_col, argument="cause_col", role="churn_type")
    extra = [c for c in extra_cols if c is not None]
    _check_columns(frame, extra, argument="covariates/group_col")
    frame = _drop_missing(frame, extra, messages, exclusions)  # tenure / churn: refused below
    if len(frame) == 0:
        raise ModelError("no rows left after excluding missing values.")
    time = _duration_array(frame, duration_col, func)
    event = _event_array(frame, event_col, func)
    cause = frame[cause_col]
    churned = event > 0
    fcodes, uniques = pd.factorize(cause)  # hashed once, no text per row; -1 = missing
    ulabels = np.array([*map(str, uniques), UNKNOWN_CAUSE], dtype=object)  # [-1]: missing
    missing_cause = churned & (fcodes < 0)
    if missing_cause.any():
        _warn(
            messages,
            f"{int(missing_cause.sum()):,} churned customers have no churn cause in {cause_col!r}; "
            f"they are analysed as cause {UNKNOWN_CAUSE!r}.",
            DataQualityWarning,
        )
    causes = sorted(set(ulabels[np.flatnonzero(np.bincount(fcodes[churned] + 1)) - 1]))
    code_of = np.array([causes.index(u) + 1 if u in causes else 0 for u in ulabels], dtype=int)
    code = np.where(churned, code_of[fcodes], 0)  # values with the same text are one cause
    cols = {"duration_col": duration_col, "event_col": event_col, "cause_col": cause_col}
    return frame, time, code, {"labels": dict(enumerate(causes, start=1)), "columns": cols}


def _cause_code(labels: dict, cause: Any, cause_col: str) -> int:
    for k, v in labels.items():
        if v == str(cause):
            return k
    raise ParameterError(
        f"`cause` {cause!r} never occurs among the churners in {cause_col!r}; causes present: "
        f"{list(labels.values())}. Pass one of these."
    )


# ================================================================================================
# cumulative incidence (cmprsk::cuminc, Fortran routine ``cinc``)
# ================================================================================================
def _cinc(time: np.ndarray, failed: np.ndarray, this_cause: np.ndarray, weights=None):
    """Aalen-Johansen CIF of one cause and Gray's (1988) variance, as ``cmprsk`` ``cinc``, at the
    distinct times of this cause's events: ``(times, estimate, variance)``. ``weights``: frequency
    weights (tallies are weighted sums, equal to the expanded rows')."""
    ut, inv = distinct_sorted(time)
    if weights is None:
        n = len(time)
        counts = np.bincount(inv, minlength=len(ut))
    else:
        weights = np.asarray(weights, dtype=float)
        n = float(weights.sum())
        counts = np.bincount(inv, weights=weights, minlength=len(ut))
        this_cause = this_cause * weights
        failed = failed * weights
    nd1 = np.bincount(inv, weights=this_cause, minlength=len(ut))
    nd = np.bincount(inv, weights=failed, minlength=len(ut))
    nd2 = nd - nd1
    rs = n - np.r_[0, np.cumsum(counts)[:-1]]
    keep = nd > 0
    nd, nd1, nd2, rs, ut = nd[keep], nd1[keep], nd2[keep], rs[keep].astype(float), ut[keep]
    fkn = np.cumprod((rs - nd) / rs)
    fk = np.r_[1.0, fkn[:-1]]
    F = np.cumsum(fk * nd1 / rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        # other causes
        t5 = np.where(nd2 > 1, 1 - (nd2 - 1) / (rs - 1), 1.0)
        t6 = fk * fk * t5 * nd2 / (rs * rs)
        ok2 = (nd2 > 0) & (fkn > 0)
        t3 = np.where(ok2, 1 / fkn, 0.0)
        t4 = np.where(ok2, F / fkn, 0.0)
        t6 = np.where(ok2, t6, 0.0)
        # this cause
        u5 = np.where(nd1 > 1, 1 - (nd1 - 1) / (rs - 1), 1.0)
        u6 = np.where(nd1 > 0, fk * fk * u5 * nd1 / (rs * rs), 0.0)
        u3 = np.where(fkn > 0, 1 / fkn, 0.0)
        u4 = 1 + u3 * F
    v1 = np.cumsum(t4 * t4 * t6 + u4 * u4 * u6)
    v2 = np.cumsum(t3 * t4 * t6 + u3 * u4 * u6)
    v3 = np.cumsum(t3 * t3 * t6 + u3 * u3 * u6)
    var = v1 + F * F * v3 - 2 * F * v2
    at = nd1 > 0
    return ut[at], F[at], var[at]


def _loglog_ci(est: np.ndarray, se: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """CI on the log(-log) scale: ``F ** exp(-/+ z * se / (F * log F))`` (stays within (0, 1))."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = se / np.abs(est * np.log(est))
        lo = est ** np.exp(z * s)
        hi = est ** np.exp(-z * s)
    inside = (est > 0) & (est < 1) & np.isfinite(s)
    lo = np.where(inside, lo, np.where(est <= 0, 0.0, np.nan))
    hi = np.where(inside, hi, np.where(est <= 0, 0.0, np.nan))
    return lo, hi


class CumulativeIncidenceResult(Result):
    """Cumulative incidence of each churn cause (by group).

    ``curves``: cause, group, time, estimate, se, ci_lower, ci_upper; one row per time at which the
    CIF of that cause jumps, plus a row at time 0. ``summary``: the same at ``times`` (or at the
    quartiles of follow-up when none were given). ``at(times)`` evaluates the step functions.
    """

    title = "Cumulative incidence of churn by cause"
    key = "cause"

    def __init__(self, summary, meta, *, curves, max_time, warnings):
        super().__init__(summary, meta, tables={"curves": curves}, warnings=warnings)
        self.curves = curves
        self._max_time = max_time

    def at(self, times: Sequence[float]) -> pd.DataFrame:
        """CIF, SE and CI of every cause and group at ``times`` (NaN beyond a group's follow-up)."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        if times.size == 0 or not np.all(np.isfinite(times)) or (times < 0).any():
            raise ParameterError(f"`times` must be non-negative finite numbers, got {list(times)}.")
        out = []
        for (_cause, group), c in self.curves.groupby(["cause", "group"], sort=False):
            idx = np.searchsorted(c["time"].to_numpy(), times, side="right") - 1
            rows = c.iloc[idx].copy()
            rows["time"] = times
            beyond = times > self._max_time[group]
            rows.loc[beyond, ["estimate", "se", "ci_lower", "ci_upper"]] = np.nan
            out.append(rows)
        return pd.concat(out, ignore_index=True)[list(self.curves.columns)]

    def plot(self, ax=None, **kwargs):
        """Step curves of each cause's cumulative incidence (stacked when ``stacked=True``)."""
        from ..plotting.competing import plot_cumulative_incidence

        return plot_cumulative_incidence(self, ax=ax, **kwargs)


def cumulative_incidence(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    cause_col: str | None = None,
    group_col: str | None = None,
    alpha: float = 0.05,
    times: Sequence[float] | None = None,
    entry_col: str | None = None,
    weights_col: str | None = None,
) -> CumulativeIncidenceResult:
    """Aalen-Johansen cumulative incidence of each churn cause, overall or by group.

    Parameters
    ----------
    data : Dataset or DataFrame
    duration_col, event_col, cause_col : str, optional
        Tenure, churned (0/1) and churn cause; default from ``data.spec`` (``tenure``, ``event``,
        ``churn_type``). The cause is read only for churners; churners without a cause are analysed
        as cause ``'unknown'`` (with a :class:`DataQualityWarning`).
    group_col : str, optional
        Estimate separately per group.
    alpha : float
        ``1 - alpha`` pointwise confidence intervals.
    times : list of float, optional
        Tenures for ``summary`` (default: quartiles of the observed tenure).
    entry_col : str, optional
        Delayed entry (left truncation): risk sets start at entry. The estimate is then the
        Aalen-Johansen estimator of :func:`workbench.survival.multistate.aalen_johansen` with its
        infinitesimal-jackknife SE (R ``survfit(Surv(entry, tenure, cause) ~ 1, id = id)``;
        ``cmprsk::cuminc`` takes no entry times), with the same log(-log) interval.
    weights_col : str, optional
        Frequency weights: whole numbers of identical customers per row (e.g. the ``count`` of
        :func:`workbench.aggregate.counts`); estimates, Gray's variance, ``n``, ``events`` and the
        default ``times`` then equal those of the expanded rows. Not combined with ``entry_col``.

    Returns
    -------
    CumulativeIncidenceResult
        ``curves`` and ``summary`` with cause, group, time, estimate, se, ci_lower, ci_upper.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> ds = load_dataset("synthetic", n_customers=2_000, seed=1)
    >>> cif = cumulative_incidence(ds, times=[12])
    >>> sorted(cif.summary["cause"])
    ['competitive', 'involuntary', 'natural', 'price', 'service_fault']

    Notes
    -----
    Estimates and variances are those of R ``cmprsk::cuminc`` (Gray's variance estimator). The
    interval is computed on the log(-log) scale, ``F ** exp(+/- z * se / (F log F))``, so it stays
    within (0, 1); ``cmprsk`` itself reports no intervals, this transform is the one used by
    e.g. ``tidycmprsk`` and Kalbfleisch & Prentice (2002).

    References
    ----------
    Aalen, O. O. & Johansen, S. (1978). An empirical transition matrix for non-homogeneous Markov
    chains based on censored observations. Scand. J. Statist. 5, 141-150.
    Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of a
    competing risk. Annals of Statistics 16(3), 1141-1154.
    """
    alpha = _check_alpha(alpha)
    agg = from_counts(
        data,
        "cumulative_incidence",
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        not_from_counts={"weights_col": weights_col},
        group_col=group_col,
        alpha=alpha,
        times=times,
        entry_col=entry_col,
    )
    if agg is not None:
        return agg
    messages: list[str] = []
    exclusions: list[dict] = []
    frame, time, code, info = _competing_input(
        data,
        func="cumulative_incidence",
        duration_col=duration_col,
        event_col=event_col,
        cause_col=cause_col,
        extra_cols=[group_col, weights_col],
        messages=messages,
        exclusions=exclusions,
    )
    labels = info["labels"]
    wts = _freq.frequency_weights(
        frame, weights_col, func="cumulative_incidence", what="Gray's variance", entry_col=entry_col
    )
    if not labels or (wts is not None and not (wts * (code > 0)).any()):
        raise ModelError(
            "no churn events: every customer is censored, so there is no cumulative incidence."
        )
    groups = _groups(frame, group_col)
    entry = None
    if entry_col is not None:
        from ..columns import entry_array

        _check_columns(frame, [entry_col], argument="entry_col")
        entry = entry_array(frame, entry_col, time, func="cumulative_incidence")
    rows, max_time = [], {}
    for g, mask in groups:
        t = time[mask]
        cd = code[mask]
        if entry is not None:
            rows.append(_cif_entry(entry[mask], t, cd, labels, g, alpha))
            max_time[g] = float(t.max())
            continue
        max_time[g] = float(t.max())
        wg = None if wts is None else wts[mask]
        n_g = int(mask.sum()) if wg is None else int(round(wg.sum()))
        if (cd > 0).sum() == 0:
            _warn(
                messages,
                f"Group {g!r} has no churn events; its cumulative incidence is 0 throughout.",
                SmallSampleWarning,
            )
        elif n_g < MIN_GROUP_SIZE:
            _warn(
                messages,
                f"Group {g!r} has only {n_g} customer(s); its cumulative incidence is very "
                "imprecise. Merge it with a similar group.",
                SmallSampleWarning,
            )
        for k, lab in labels.items():
            ut, est, var = _cinc(t, (cd > 0).astype(float), (cd == k).astype(float), wg)
            ut, est, var = np.r_[0.0, ut], np.r_[0.0, est], np.r_[0.0, var]
            se = np.sqrt(np.maximum(var, 0.0))
            lo, hi = _loglog_ci(est, se, alpha)
            rows.append(
                pd.DataFrame(
                    {
                        "cause": lab,
                        "group": g,
                        "time": ut,
                        "estimate": est,
                        "se": se,
                        "ci_lower": lo,
                        "ci_upper": hi,
                    }
                )
            )
    curves = pd.concat(rows, ignore_index=True)
    if times is None:
        times = np.unique(_freq.quantiles(time, [0.25, 0.5, 0.75], wts))
    cw = np.ones(len(frame)) if wts is None else wts
    meta = {
        "n": int(round(cw.sum())),
        "events": int(round(cw[code > 0].sum())),
        "alpha": alpha,
        "method": "Aalen-Johansen cumulative incidence (R cmprsk::cuminc), log(-log) CI"
        if entry is None
        else f"Aalen-Johansen cumulative incidence with delayed entry at '{entry_col}' "
        "(R survfit, infinitesimal-jackknife SE), log(-log) CI",
        "entry_col": entry_col,
        "causes": list(labels.values()),
        "events_by_cause": {lab: int(round(cw[code == k].sum())) for k, lab in labels.items()},
        "group_col": group_col,
        "weights_col": weights_col,
        "exclusions": exclusions,
        "reference_levels": {},  # no regression terms
        **info["columns"],
    }
    meta["fingerprint"] = fingerprint_of(
        data, frame, [*info["columns"].values(), group_col, weights_col, entry_col]
    )
    res = CumulativeIncidenceResult(
        pd.DataFrame(), meta, curves=curves, max_time=max_time, warnings=messages
    )
    res.summary = res.at(times)
    return res


def _cif_entry(entry, time, code, labels: dict, group, alpha: float) -> pd.DataFrame:
    """CIF of every cause with delayed entry: the multi-state Aalen-Johansen (one home for it)."""
    from .multistate import CENSORED, aalen_johansen

    keep = entry < time  # entry == exit: never at risk
    lab = np.array(["alive"] + [labels[k] for k in sorted(labels)], dtype=object)
    rows = pd.DataFrame(
        {
            "id": np.arange(int(keep.sum())),
            "start": entry[keep],
            "stop": time[keep],
            "from_state": "alive",
            "to_state": np.where(code[keep] > 0, lab[code[keep]], CENSORED),
        }
    )
    aj = aalen_johansen(rows, id_col="id", states=list(lab), alpha=alpha, all_times_se=True)
    cur = aj.tables["curves"]
    out = []
    for k in sorted(labels):
        c = cur[cur["state"] == labels[k]]
        est = np.r_[0.0, c["estimate"].to_numpy()]
        se = np.r_[0.0, c["se"].to_numpy()]
        lo, hi = _loglog_ci(est, se, alpha)
        out.append(
            pd.DataFrame(
                {
                    "cause": labels[k],
                    "group": group,
                    "time": np.r_[0.0, c["time"].to_numpy()],
                    "estimate": est,
                    "se": se,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def _groups(frame: pd.DataFrame, group_col: str | None):
    if group_col is None:
        return [("all", np.ones(len(frame), dtype=bool))]
    g = frame[group_col]
    levels = (
        list(g.cat.categories)
        if isinstance(g.dtype, pd.CategoricalDtype)
        else sorted(g.unique(), key=str)
    )
    vals = g.to_numpy()
    return [(str(lv), vals == lv) for lv in levels if (vals == lv).any()]
