"""Diagnostics of a Cox fit: the proportional-hazards test of R ``survival::cox.zph``
(:class:`PHTestResult`) with the scaled Schoenfeld residuals it plots.

Every risk-set quantity (Schoenfeld residuals, block scores, time-weighted information) comes from
the engine's sorted problem (:mod:`workbench.survival._riskset`); nothing here sums a risk set.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import linalg, stats

from ..exceptions import (
    ModelError,
    ParameterError,
    ProportionalHazardsWarning,
)
from ..results import Result
from .kernels import km_left_limit


def _time_transform(time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    """The transformed tenure ``g(t)`` of every churner (rows with ``event > 0``, in row order)."""
    ev = event > 0
    if transform == "km":
        return 1 - km_left_limit(time, event, at=time[ev])
    if transform == "identity":
        return time[ev].astype(float)
    if transform == "log":
        with np.errstate(divide="ignore"):
            return np.log(time[ev])
    if transform == "rank":
        return stats.rankdata(time)[ev]
    raise ParameterError(
        f"`transform` must be one of 'km', 'rank', 'identity', 'log', got {transform!r}."
    )


def _zph(fit, time: np.ndarray, event: np.ndarray, term_covariate: list[str], transform: str):
    """The score test of R ``survival::cox.zph`` (survival >= 3.0) from the engine's risk sets.

    ``fit`` is the engine's :class:`~workbench.survival.engine.CoxFit` with its internals;
    ``time`` / ``event`` are the rows it was fitted on, in its order. The test adds ``g(t) * x`` to
    the model: its score is ``sum_b g_b U_b`` over the event blocks, its information the blocks'
    information weighted by ``g_b`` and ``g_b^2`` (:meth:`_Problem.weighted_information`).
    """
    prob, ev, beta, _ = fit._internals
    # g(t) at the churners' rows (only they enter the test), from the engine's sorted rows (the
    # same rows as time / event, in its order), back in the caller's row order
    tt = np.zeros(len(time))
    tt[prob.order[prob.d > 0]] = _time_transform(prob.t, prob.d, transform)
    g_all = tt - tt[event > 0].mean()
    gb = prob.block_values(g_all)
    p = beta.size
    u2 = np.zeros(p)
    for g, U in zip(gb, prob.block_scores(ev)):
        u2 += g @ U
    I11 = ev.info
    I12 = prob.weighted_information(beta, ev, gb)
    I22 = prob.weighted_information(beta, ev, [g * g for g in gb])
    imat = np.block([[I11, I12], [I12, I22]])
    u = np.r_[np.zeros(p), u2]
    rows = []
    for cov in dict.fromkeys(term_covariate):
        jj = [j for j, c in enumerate(term_covariate) if c == cov]
        kk = list(range(p)) + [p + j for j in jj]
        uu = np.r_[np.zeros(p), u2[jj]]
        stat = float(uu @ linalg.solve(imat[np.ix_(kk, kk)], uu, assume_a="sym"))
        rows.append((cov, stat, len(jj)))
    rows.append(("GLOBAL", float(u @ linalg.solve(imat, u, assume_a="sym")), p))
    table = pd.DataFrame(rows, columns=["term", "statistic", "df"])
    table["p_value"] = stats.chi2.sf(table["statistic"], table["df"])
    return table, tt


class PHTestResult(Result):
    """Test of proportional hazards (R ``cox.zph``): one row per covariate and a GLOBAL row.

    ``tables['residuals']`` holds the scaled Schoenfeld residuals (one row per event, one column
    per term, plus ``time`` and ``transformed_time``) that :meth:`plot` draws.
    """

    title = "Test of proportional hazards (scaled Schoenfeld residuals)"

    def plot(self, term: str | None = None, ax=None, **kwargs):
        """Scaled Schoenfeld residuals of ``term`` against transformed tenure, with a smooth."""
        from ..plotting.cox import plot_schoenfeld

        return plot_schoenfeld(self, term=term, ax=ax, **kwargs)


def ph_test(s: dict, meta: dict, transform: str = "km") -> PHTestResult:
    """The proportional-hazards test of a fitted Cox model (see ``CoxResult.ph_test``).

    ``s`` is the fit state a :class:`~workbench.survival.cox.CoxResult` keeps, ``meta`` its meta.
    A p-value below ``meta["alpha"]`` raises a :class:`ProportionalHazardsWarning` naming the
    covariates; it is also in the returned result's ``warnings``.
    """
    if not s["terms"]:
        raise ModelError("the Cox model has no terms left to test; add covariates.")
    if "fit" not in s:
        raise ModelError(
            "the proportional-hazards test is not available for a fit with delayed entry or "
            "(start, stop] rows yet; fit without entry_col / start_col to test proportional hazards."
        )
    fit = s["fit"]
    table, tt = _zph(fit, s["time"], s["event"], s["term_covariate"], transform)
    prob, ev = fit._internals[:2]
    rows, times, sres = prob.schoenfeld(ev)
    nevent = int(s["event"].sum())
    scaled = sres @ s["naive_var"] * nevent + s["beta"]
    o = np.argsort(times, kind="stable")  # by tenure (events in the engine's order before)
    resid = pd.DataFrame(
        {"time": times[o], "transformed_time": tt[rows[o]]}
        | {term: scaled[o, j] for j, term in enumerate(s["terms"])}
    )
    msgs: list[str] = []
    alpha = meta["alpha"]
    bad = table[(table["term"] != "GLOBAL") & (table["p_value"] < alpha)]
    if len(bad):
        names = ", ".join(f"{t} (p={p:.3g})" for t, p in zip(bad["term"], bad["p_value"]))
        msg = (
            f"Proportional hazards rejected at alpha={alpha:g} for {names}: the hazard ratio changes "
            "with tenure. Remedies: stratify on the covariate (strata=[...]), split the follow-up time "
            "into periods with separate effects, or model a time-varying coefficient; "
            "read its Schoenfeld residual plot."
        )
        warnings.warn(msg, ProportionalHazardsWarning, stacklevel=3)
        msgs.append(msg)
    return PHTestResult(
        table,
        {
            "n": meta["n"],
            "events": meta["events"],
            "alpha": alpha,
            "transform": transform,
            "method": "score test (R survival::cox.zph)",
            "coefficients": dict(zip(s["terms"], map(float, s["beta"]))),
        },
        tables={"residuals": resid},
        warnings=msgs,
    )
