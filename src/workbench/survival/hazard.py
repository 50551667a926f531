"""The churn hazard over the customer lifecycle: Nelson-Aalen cumulative hazard, a kernel-smoothed
hazard rate (so early-months and contract-renewal peaks show) and churn by lifecycle stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_alpha
from ..exceptions import ParameterError
from ..results import Result
from ._frame import _group_warnings, prepare_survival_frame
from .kernels import km_estimate

__all__ = [
    "DEFAULT_STAGES",
    "HazardResult",
    "NelsonAalenResult",
    "StageHazardResult",
    "nelson_aalen",
    "smoothed_hazard",
    "stage_hazard",
]

DEFAULT_STAGES = (0.0, 3.0, 12.0, 24.0)


class NelsonAalenResult(Result):
    """Nelson-Aalen cumulative hazard per group (see :func:`nelson_aalen`)."""

    title = "Nelson-Aalen cumulative hazard"

    def __init__(self, summary, meta, *, curves, warnings=None):
        super().__init__(summary, meta, tables={"curves": curves}, warnings=warnings)
        self.curves = curves

    def plot(self, ax=None):
        from ..plotting import get_ax

        ax = get_ax(ax)
        for i, (g, cur) in enumerate(self.curves.groupby("group", sort=False)):
            t = np.concatenate([[0.0], cur["time"].to_numpy()])
            h = np.concatenate([[0.0], cur["cumhaz"].to_numpy()])
            ax.step(t, h, where="post", color=f"C{i % 10}", label=str(g))
        from ..plotting.style import tenure_label

        ax.set_xlabel(tenure_label(self.meta))
        ax.set_ylabel("cumulative churn hazard")
        ax.legend(frameon=False, fontsize="small")
        return ax


def nelson_aalen(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    weights_col: str | None = None,
    alpha: float = 0.05,
) -> NelsonAalenResult:
    """Nelson-Aalen estimate of the cumulative churn hazard ``H(t) = sum d_i / n_i``.

    The standard error is ``sqrt(sum d_i / n_i^2)`` (R ``survfit(..., ctype = 1)$std.chaz``); the
    interval is on the log scale, ``H exp(+-z se / H)``.

    Returns
    -------
    NelsonAalenResult
        ``curves``: ``group, time, at_risk, events, cumhaz, se, ci_lower, ci_upper``; ``summary``:
        ``group, n, events, cumhaz_end`` (at the group's last time).

    References
    ----------
    Nelson, W. (1972). Theory and applications of hazard plotting for censored failure data.
    Technometrics 14, 945-966. Aalen, O. (1978). Nonparametric inference for a family of counting
    processes. Annals of Statistics 6, 701-726.
    """
    alpha = check_alpha(alpha)
    prep, info, messages = prepare_survival_frame(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        weights_col=weights_col,
        func="nelson_aalen",
    )
    messages += _group_warnings(prep, "nelson_aalen")
    z = stats.norm.ppf(1 - alpha / 2)
    curves, rows = [], []
    for g, sub in prep.groupby("group", observed=True, sort=True):
        w = sub["weight"].to_numpy() if weights_col else None
        r = km_estimate(sub["duration"].to_numpy(), sub["event"].to_numpy(), w)
        n, d = r["at_risk"], r["events"]
        with np.errstate(divide="ignore", invalid="ignore"):
            H = np.cumsum(np.where(n > 0, d / n, 0.0))
            se = np.sqrt(np.cumsum(np.where(n > 0, d / n**2, 0.0)))
            lo = np.where(H > 0, H * np.exp(-z * se / H), 0.0)
            hi = np.where(H > 0, H * np.exp(z * se / H), 0.0)
        curves.append(
            pd.DataFrame(
                {
                    "group": str(g),
                    "time": r["time"],
                    "at_risk": n,
                    "events": d,
                    "cumhaz": H,
                    "se": se,
                    "ci_lower": lo,
                    "ci_upper": hi,
                }
            )
        )
        rows.append(
            {"group": str(g), "n": len(sub), "events": int(sub["event"].sum()), "cumhaz_end": H[-1]}
        )
    meta = {
        "n": len(prep),
        "events": int(prep["event"].sum()),
        "alpha": alpha,
        "method": "Nelson-Aalen",
        **info,
    }
    return NelsonAalenResult(
        pd.DataFrame(rows), meta, curves=pd.concat(curves, ignore_index=True), warnings=messages
    )


# -------------------------------------------------------------------------------- smoothed hazard
def _epanechnikov_weights(
    t_grid: np.ndarray, t_ev: np.ndarray, b: float, t_max: float
) -> np.ndarray:
    """Kernel weights ``K_b(t - t_i)`` (grid x events), Epanechnikov with Mueller-Wang boundary kernels."""
    x = (t_grid[:, None] - t_ev[None, :]) / b
    k = np.where(np.abs(x) <= 1, 0.75 * (1 - x**2), 0.0)
    # left boundary (t < b): q = t / b; support x in [-1, q]; right boundary mirrored
    for side in ("left", "right"):
        q = (t_grid / b) if side == "left" else ((t_max - t_grid) / b)
        near = q < 1
        if not near.any():
            continue
        qq = np.clip(q[near], 0.0, 1.0)[:, None]
        xx = x[near] if side == "left" else -x[near]
        # kernel of Mueller & Wang (1994) for the left boundary evaluated at u = -x  (u in [-1, q])
        u = xx
        kb = 12.0 / (1 + qq) ** 4 * (1 + u) * ((1 - 2 * qq) * u + (3 * qq**2 - 2 * qq + 1) / 2)
        kb = np.where((u >= -1) & (u <= qq), kb, 0.0)
        k[near] = kb
    return k / b


class HazardResult(Result):
    """Kernel-smoothed hazard rate over tenure (see :func:`smoothed_hazard`).

    ``smoothed``: ``group, time, hazard, se, ci_lower, ci_upper``; ``summary``: ``group, n, events,
    peak_time, peak_hazard, bandwidth`` (the highest point, not within a bandwidth of the end of
    follow-up); ``tables["peaks"]``: every interior
    local maximum that rises above its surroundings by more than ``z`` pointwise standard errors
    (and 5% of the highest hazard), away from the boundaries, e.g. renewal peaks; with the share
    of customers still at risk there (peaks in the thin tail are fragile).
    """

    title = "Smoothed churn hazard over tenure"

    def __init__(self, summary, meta, *, smoothed, warnings=None):
        super().__init__(summary, meta, tables={"smoothed": smoothed}, warnings=warnings)
        self.smoothed = smoothed

    def plot(self, ax=None, ci: bool = True):
        from ..plotting.survival import plot_hazard

        return plot_hazard(self, ax=ax, ci=ci)


def smoothed_hazard(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    weights_col: str | None = None,
    bandwidth: float | None = None,
    grid: Sequence[float] | None = None,
    alpha: float = 0.05,
) -> HazardResult:
    """Kernel-smoothed churn hazard rate ``h(t) = sum_i K_b(t - t_i) dH(t_i)`` over tenure.

    Smooths the Nelson-Aalen increments with an Epanechnikov kernel of half-width ``bandwidth``
    and Mueller-Wang boundary kernels near 0 and the last follow-up, so the early-months peak is
    not halved at tenure 0. Variance ``sum_i K_b(t - t_i)^2 d_i / n_i^2``; the interval is on the
    log scale.

    Parameters
    ----------
    bandwidth : float, optional
        Kernel half-width in tenure units (default: last follow-up / 48, i.e. 1.5 months over 6
        years). Smaller shows sharper peaks with more noise.
    grid : sequence of float, optional
        Tenures to evaluate at (default 200 points from the first churn to the last follow-up;
        with whole-month tenures nothing is observed before month 1).

    Returns
    -------
    HazardResult
        ``smoothed`` table and a ``summary`` with the peak per group.

    References
    ----------
    Ramlau-Hansen, H. (1983). Smoothing counting process intensities by means of kernel functions.
    Annals of Statistics 11, 453-466. Mueller, H.-G. and Wang, J.-L. (1994). Hazard rate estimation
    under random censoring with varying kernels and bandwidths. Biometrics 50, 61-76.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> hz = smoothed_hazard(load_dataset("synthetic", n_customers=2_000))
    >>> list(hz.smoothed.columns)
    ['group', 'time', 'hazard', 'se', 'ci_lower', 'ci_upper']
    """
    alpha = check_alpha(alpha)
    prep, info, messages = prepare_survival_frame(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        weights_col=weights_col,
        func="smoothed_hazard",
    )
    messages += _group_warnings(prep, "smoothed_hazard")
    t_max = float(prep["duration"].max())
    if t_max <= 0:
        raise ParameterError(
            "smoothed_hazard: every tenure is 0; there is no follow-up to smooth over."
        )
    if bandwidth is None:
        b = t_max / 48.0
    else:
        try:
            b = float(bandwidth)
        except (TypeError, ValueError):
            b = float("nan")
        if not np.isfinite(b) or b <= 0 or b > t_max / 2:
            raise ParameterError(
                f"`bandwidth` must be a positive number below half the follow-up ({t_max / 2:g}), got {bandwidth!r}."
            )
    if grid is None:
        ev_t = prep.loc[prep["event"] == 1, "duration"]
        t0 = float(ev_t.min()) if len(ev_t) else 0.0
        t_grid = np.linspace(t0, t_max, 200)
    else:
        t_grid = np.asarray(grid, dtype=float)
    if t_grid.ndim != 1 or not np.isfinite(t_grid).all() or (t_grid < 0).any():
        raise ParameterError(f"`grid` must be finite tenures >= 0, got {grid!r}.")
    z = stats.norm.ppf(1 - alpha / 2)
    tabs, rows, peaks = [], [], []
    for g, sub in prep.groupby("group", observed=True, sort=True):
        w = sub["weight"].to_numpy() if weights_col else None
        r = km_estimate(sub["duration"].to_numpy(), sub["event"].to_numpy(), w)
        ev = r["events"] > 0
        t_ev, d, n = r["time"][ev], r["events"][ev], r["at_risk"][ev]
        t_end = float(sub["duration"].max())
        inside = t_grid <= t_end
        tg = t_grid[inside]
        h = np.zeros(len(tg))
        var = np.zeros(len(tg))
        chunk = max(1, 2_000_000 // max(len(t_ev), 1))
        for s in range(0, len(tg), chunk):
            kw = _epanechnikov_weights(tg[s : s + chunk], t_ev, b, t_end)
            h[s : s + chunk] = kw @ (d / n)
            var[s : s + chunk] = (kw**2) @ (d / n**2)
        h = np.maximum(h, 0.0)
        se = np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = np.where(h > 0, h * np.exp(-z * se / h), 0.0)
            hi = np.where(h > 0, h * np.exp(z * se / h), 0.0)
        tab = pd.DataFrame(
            {"group": str(g), "time": tg, "hazard": h, "se": se, "ci_lower": lo, "ci_upper": hi}
        )
        tabs.append(tab)
        interior = tg <= t_end - b
        if interior.any():  # boundary kernels are noisy at the very end of follow-up
            i = int(np.flatnonzero(interior)[np.argmax(h[interior])])
        else:
            i = int(np.argmax(h)) if len(h) else 0
        if len(h) > 2:
            from scipy.signal import find_peaks

            pk, props = find_peaks(h, prominence=0.05 * h.max())
            # rises clearly above the noise, away from the boundaries (boundary kernels wiggle)
            clear = (props["prominences"] > z * se[pk]) & (tg[pk] > b) & (tg[pk] < t_end - b)
            peaks.extend(
                {
                    "group": str(g),
                    "time": float(tg[j]),
                    "hazard": float(h[j]),
                    "prominence": float(pr),
                    "share_at_risk": float((sub["duration"].to_numpy() >= tg[j]).mean()),
                }
                for j, pr in zip(pk[clear], props["prominences"][clear], strict=True)
            )
        rows.append(
            {
                "group": str(g),
                "n": len(sub),
                "events": int(sub["event"].sum()),
                "peak_time": float(tg[i]) if len(tg) and h[i] > 0 else np.nan,
                "peak_hazard": float(h[i]) if len(h) else np.nan,
                "bandwidth": b,
            }
        )
    meta = {
        "n": len(prep),
        "events": int(prep["event"].sum()),
        "alpha": alpha,
        "method": "Epanechnikov kernel-smoothed Nelson-Aalen (boundary-corrected)",
        "bandwidth": b,
        **info,
    }
    res = HazardResult(
        pd.DataFrame(rows), meta, smoothed=pd.concat(tabs, ignore_index=True), warnings=messages
    )
    res.tables["peaks"] = pd.DataFrame(
        peaks, columns=["group", "time", "hazard", "prominence", "share_at_risk"]
    )
    return res


# ------------------------------------------------------------------------------ lifecycle stages
class StageHazardResult(Result):
    """Churn hazard per lifecycle stage (see :func:`stage_hazard`)."""

    title = "Churn by lifecycle stage"

    def plot(self, ax=None):
        from ..plotting.survival import plot_stage_hazard

        return plot_stage_hazard(self, ax=ax)


def _stage_labels(cuts: np.ndarray) -> list[str]:
    out = []
    for i, a in enumerate(cuts):
        if i + 1 < len(cuts):
            out.append(f"{a:g}-{cuts[i + 1]:g}")
        else:
            out.append(f"{a:g}+")
    return out


def stage_hazard(
    data: Any,
    *,
    duration_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    weights_col: str | None = None,
    stages: Sequence[float] = DEFAULT_STAGES,
    alpha: float = 0.05,
) -> StageHazardResult:
    """Churn rate per lifecycle stage: events / customer-time at risk within each tenure band.

    Each customer contributes the tenure they spent inside a stage (e.g. months 3 to 12) and their
    churn, if it happened there. The rate is the occurrence/exposure (piecewise-exponential) hazard
    per unit of tenure; ``churn_prob`` is the matching probability of churning within one unit
    (``1 - exp(-rate)``, e.g. monthly churn). The interval is the exact Poisson (Garwood) interval
    for the count divided by the exposure.

    Parameters
    ----------
    stages : sequence of float
        Stage start points, increasing, first 0 (default 0, 3, 12, 24: 0-3, 3-12, 12-24, 24+).

    Returns
    -------
    StageHazardResult
        ``summary``: ``group, stage, start, end, entering, events, exposure, estimate, ci_lower,
        ci_upper, churn_prob``.

    References
    ----------
    Holford, T. R. (1980). The analysis of rates and of survivorship using log-linear models.
    Biometrics 36, 299-305. Garwood, F. (1936). Fiducial limits for the Poisson distribution.
    Biometrika 28, 437-442.
    """
    alpha = check_alpha(alpha)
    try:
        cuts = np.asarray(list(stages), dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(
            f"`stages` must be increasing tenure cut points starting at 0, got {stages!r}."
        ) from None
    if cuts.size < 1 or cuts[0] != 0 or (np.diff(cuts) <= 0).any() or not np.isfinite(cuts).all():
        raise ParameterError(
            f"`stages` must be increasing tenure cut points starting at 0 (e.g. [0, 3, 12, 24]), got {list(stages)!r}."
        )
    prep, info, messages = prepare_survival_frame(
        data,
        duration_col=duration_col,
        event_col=event_col,
        group_col=group_col,
        weights_col=weights_col,
        func="stage_hazard",
    )
    labels = _stage_labels(cuts)
    ends = np.append(cuts[1:], np.inf)
    rows = []
    for g, sub in prep.groupby("group", observed=True, sort=True):
        t = sub["duration"].to_numpy()
        e = sub["event"].to_numpy()
        w = sub["weight"].to_numpy()
        for lab, a, b in zip(labels, cuts, ends, strict=True):
            expo = float((w * np.clip(np.minimum(t, b) - a, 0, None)).sum())
            in_stage = (t > a) & (t <= b) if a > 0 else (t >= a) & (t <= b)
            d = float((w * e * in_stage).sum())
            d_count = int((e * in_stage).sum())
            entering = int((t > a).sum()) if a > 0 else len(t)
            if expo > 0:
                rate = d / expo
                lo = stats.chi2.ppf(alpha / 2, 2 * d_count) / 2 / expo if d_count > 0 else 0.0
                hi = stats.chi2.ppf(1 - alpha / 2, 2 * d_count + 2) / 2 / expo
                if weights_col:  # scale the exact count interval to the weighted count
                    ratio = d / d_count if d_count > 0 else 1.0
                    lo, hi = lo * ratio, hi * ratio
            else:
                rate = lo = hi = np.nan
            rows.append(
                {
                    "group": str(g),
                    "stage": lab,
                    "start": a,
                    "end": b,
                    "entering": entering,
                    "events": d if weights_col else d_count,
                    "exposure": expo,
                    "estimate": rate,
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "churn_prob": 1 - np.exp(-rate) if np.isfinite(rate) else np.nan,
                }
            )
    summary = pd.DataFrame(rows)
    empty = summary[summary["exposure"] <= 0]
    if len(empty):
        import warnings

        from ..exceptions import SmallSampleWarning

        msg = (
            "stage_hazard: no customer reached stage(s) "
            + ", ".join(f"{r.stage} ({r.group})" for r in empty.itertuples())
            + "; their rate is left empty. Use fewer or earlier stages."
        )
        warnings.warn(msg, SmallSampleWarning, stacklevel=2)
        messages.append(msg)
    meta = {
        "n": len(prep),
        "events": int(prep["event"].sum()),
        "alpha": alpha,
        "method": "occurrence/exposure rate per lifecycle stage, exact Poisson CI",
        "stages": cuts.tolist(),
        **info,
    }
    return StageHazardResult(summary, meta, warnings=messages)
