"""Figures of Cox models: forest plot of hazard ratios, scaled Schoenfeld residuals over tenure."""

from __future__ import annotations

import numpy as np

from . import get_ax


def plot_forest(
    result, ax=None, *, column: str = "hazard_ratio", label: str = "Hazard ratio", **kwargs
):
    """Forest plot: one row per term, point estimate and interval on a log axis, line at 1.

    ``result`` is a :class:`~workbench.survival.cox.CoxResult` or a Fine-Gray result (any result
    whose summary has ``term``, ``column`` and its interval ``hr_ci_lower`` / ``hr_ci_upper``).
    Returns the Axes.
    """
    s = result.summary
    ax = get_ax(ax, figsize=(7.0, 0.45 * len(s) + 1.5))
    y = np.arange(len(s))[::-1]
    est = s[column].to_numpy(dtype=float)
    lo = s["hr_ci_lower"].to_numpy(dtype=float)
    hi = s["hr_ci_upper"].to_numpy(dtype=float)
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
    ax.errorbar(
        est[ok],
        y[ok],
        xerr=[est[ok] - lo[ok], hi[ok] - est[ok]],
        fmt="o",
        color=kwargs.get("color", "C0"),
        ecolor=kwargs.get("color", "C0"),
        capsize=3,
    )
    ax.axvline(1.0, color="0.5", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    _plain_log_ticks(ax, np.r_[lo[ok], hi[ok], 1.0])
    ax.set_yticks(y)
    ax.set_yticklabels(s["term"].astype(str))
    level = 1 - float(result.meta.get("alpha", 0.05))
    ax.set_xlabel(f"{label} ({level:.0%} CI, log scale)")
    ax.set_title(getattr(result, "title", ""))
    return ax


def _plain_log_ticks(ax, values: np.ndarray) -> None:
    """Tick labels of a log axis as plain numbers (0.3, 1, 2), never mathtext such as
    ``3 x 10^-1``; the 2-9 multiples are labelled when the axis spans less than a decade."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _pos: f"{v:.3g}")
    ax.xaxis.set_major_formatter(plain)
    span = np.log10(values.max() / values.min()) if values.size and values.min() > 0 else 2.0
    ax.xaxis.set_minor_formatter(plain if span < 1.0 else NullFormatter())


def plot_schoenfeld(ph_result, term: str | None = None, ax=None, *, frac: float = 0.5, **kwargs):
    """Scaled Schoenfeld residuals of one term against transformed tenure, with a lowess smooth.

    A flat smooth supports proportional hazards; a trend shows how the log hazard ratio
    ``beta(t)`` changes over tenure (Grambsch & Therneau 1994). ``ph_result`` is the
    :class:`~workbench.survival.cox.PHTestResult` of ``CoxResult.ph_test()``; ``term`` is a model term
    (default: the first). The dashed line is the fitted (constant) coefficient.
    """
    res = ph_result.tables["residuals"]
    terms = [c for c in res.columns if c not in ("time", "transformed_time")]
    if term is None:
        term = terms[0]
    if term not in terms:
        from ..exceptions import ParameterError

        raise ParameterError(f"`term` {term!r} is not a model term; choose one of {terms}.")
    ax = get_ax(ax)
    x = res["transformed_time"].to_numpy(dtype=float)
    y = res[term].to_numpy(dtype=float)
    ax.scatter(x, y, s=6, alpha=0.3, color=kwargs.get("color", "C0"), label="scaled residual")
    if len(x) > 5:
        from statsmodels.nonparametric.smoothers_lowess import lowess

        sm = lowess(y, x, frac=frac, return_sorted=True)
        ax.plot(sm[:, 0], sm[:, 1], color="C3", linewidth=2, label="lowess smooth")
    beta = ph_result.meta.get("coefficients", {}).get(term)
    if beta is not None:
        ax.axhline(beta, color="0.4", linestyle="--", linewidth=1, label="Cox estimate")
    ax.set_xlabel(f"tenure ({ph_result.meta.get('transform', 'km')} scale)")
    ax.set_ylabel(f"beta(t) for {term}")
    row = ph_result.summary.set_index("term")
    cov = term.split("[")[0]
    if cov in row.index:
        ax.set_title(f"{term}: PH test p = {row.loc[cov, 'p_value']:.3g}")
    # tick labels in tenure units at a few quantiles
    t = res["time"].to_numpy(dtype=float)
    if len(t) > 1 and ph_result.meta.get("transform") == "km":
        qs = np.quantile(np.arange(len(t)), [0.1, 0.5, 0.9]).astype(int)
        ax.set_xticks(x[qs])
        ax.set_xticklabels([f"{v:.3g}" for v in t[qs]])
        ax.set_xlabel("tenure (Kaplan-Meier scale)")
    ax.legend(loc="best", fontsize="small")
    return ax
