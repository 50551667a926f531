"""Figures for customer value: CLV by segment, sBG projections, value matrix, Lorenz curve, health-score ROC.

Every function takes a result plus an optional ``ax=``, draws and returns the Axes. No estimation here.
"""

from __future__ import annotations

import numpy as np

from . import get_ax


def _message(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def _unavailable(result, ax):
    """The reason an unavailable result is empty, drawn in place of the figure (else ``None``)."""
    if result.meta.get("available") is False:
        return _message(ax, result.meta.get("reason") or "unavailable for these data")
    return None


def plot_clv(result, ax=None):
    """Lifetime value per segment with its CI; the extrapolated part hatched."""
    ax = get_ax(ax)
    s = result.summary
    if not len(s):
        return _message(ax, result.meta.get("reason") or "no lifetime value")
    x = np.arange(len(s))
    est = s["estimate"].to_numpy(float)
    tail = est * s["tail_share"].to_numpy(float)
    ax.bar(x, est - tail, color="C0", label="within follow-up")
    if np.any(tail > 0):
        ax.bar(
            x, tail, bottom=est - tail, color="C0", alpha=0.4, hatch="//", label="extrapolated tail"
        )
    if s["ci_lower"].notna().any():
        ax.plot([], [], color="k", label=result.ci_label)
        err = np.vstack([est - s["ci_lower"].to_numpy(float), s["ci_upper"].to_numpy(float) - est])
        ax.errorbar(x, est, yerr=err, fmt="none", ecolor="k", capsize=4)
    ax.set_xticks(x, s["group"].tolist())
    ax.set_ylabel(
        f"discounted margin over {result.meta.get('horizon_months', float('nan')):g} months"
    )
    ax.legend(loc="best")
    return ax


def plot_sbg(result, ax=None, *, periods: int | None = None):
    """Observed survivors (if any) and the sBG projection with its CI band."""
    ax = get_ax(ax)
    fit = result.tables.get("fit")
    T = periods or (2 * (len(fit) - 1) if fit is not None else 12)
    proj = result.project(int(T))
    ax.plot(proj["period"], 100 * proj["survival"], color="C1", label="sBG projection")
    ax.fill_between(
        proj["period"], 100 * proj["ci_lower"], 100 * proj["ci_upper"], color="C1", alpha=0.2
    )
    if fit is not None:
        ax.plot(
            fit["period"],
            100 * fit["observed"] / fit["observed"].iloc[0],
            "o",
            color="k",
            label="observed",
        )
    ax.set_xlabel("period")
    ax.set_ylabel("% of cohort still active")
    ax.set_ylim(0, 100)
    ax.legend()
    return ax


def plot_sbg_cohorts(result, ax=None):
    """Fitted retention-rate curves ``r(t)`` of every cohort: they rise with tenure (sorting effect)."""
    ax = get_ax(ax)
    for label, r in result.fits.items():
        T = int(r.meta.get("periods", 24) or 24)
        t = np.arange(1, max(T, 2) + 1)
        ax.plot(t, 100 * r.retention_rate(t), label=str(label))
    ax.set_xlabel("period since joining")
    ax.set_ylabel("retention rate (%)")
    ax.legend(title="cohort", fontsize="small")
    return ax


def plot_customer_value(result, ax=None):
    """Distribution of customers' current (residual) value."""
    ax = get_ax(ax)
    if _unavailable(result, ax) is not None:
        return ax
    v = result.tables["customers"]["current_value"].dropna()
    ax.hist(v, bins=50, color="C2")
    ax.set_xlabel("current value (discounted residual margin)")
    ax.set_ylabel("active customers")
    return ax


def plot_value_matrix(result, ax=None, *, max_points: int = 4000, seed: int = 0):
    """Current value against growth potential, with the cuts and the four types."""
    ax = get_ax(ax)
    if _unavailable(result, ax) is not None:
        return ax
    p = result.tables["points"]
    if len(p) > max_points:
        p = p.sample(max_points, random_state=seed)
    for k, (typ, d) in enumerate(p.groupby("type")):
        ax.scatter(
            d["current_value"],
            d["growth_potential"],
            s=4,
            alpha=0.5,
            color=f"C{k}",
            label=f"type {typ}",
        )
    ax.axvline(result.meta["current_cut"], color="k", lw=0.8)
    ax.axhline(result.meta["potential_cut"], color="k", lw=0.8)
    ax.set_xlabel("current value")
    ax.set_ylabel("growth potential")
    ax.legend(markerscale=3)
    return ax


def plot_lorenz(result, ax=None):
    """Lorenz curve of value (customers sorted from least to most valuable) and the equality line."""
    ax = get_ax(ax)
    if _unavailable(result, ax) is not None:
        return ax
    c = result.tables["curve"]
    ax.plot(
        100 * c["customer_share"],
        100 * c["value_share"],
        color="C0",
        label=f"Gini {result.meta['gini']:.2f}",
    )
    ax.plot([0, 100], [0, 100], color="grey", ls="--", lw=0.8)
    ax.set_xlabel("% of customers (least valuable first)")
    ax.set_ylabel("% of value")
    ax.legend()
    return ax


def plot_health_roc(result, ax=None):
    """Time-dependent ROC curve of the score with the assessed thresholds marked."""
    ax = get_ax(ax)
    roc = result.tables.get("roc")
    if roc is None or not len(roc):
        return _message(ax, "; ".join(result.warnings) or "health score unavailable")
    ax.plot(
        roc["false_positive_rate"],
        roc["sensitivity"],
        color="C0",
        label=f"AUC {result.meta['auc']:.2f} at {result.meta['horizon_months']:g} months",
    )
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=0.8)
    for _, r in result.summary.iterrows():
        ax.plot(
            1 - r["specificity"], r["sensitivity"], "o", label=f"< {r['threshold']:g} ({r['rule']})"
        )
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.legend(fontsize="small")
    return ax


def plot_cltv_comparison(result, ax=None):
    """The workbench's customer value against the data's own CLTV (a sample of customers)."""
    ax = get_ax(ax)
    pts = result.tables.get("points")
    if pts is None or not len(pts):
        return _message(ax, "; ".join(result.warnings) or "no CLTV column to compare with")
    ax.scatter(pts["cltv"], pts["value"], s=4, alpha=0.4)
    ax.set_xlabel(f"data's CLTV ('{result.meta['cltv_col']}')")
    ax.set_ylabel(f"workbench value ('{result.meta['value_col']}')")
    ax.set_title(f"Spearman {result.meta['spearman']:.2f}")
    return ax
