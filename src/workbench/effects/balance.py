"""Covariate balance: standardised mean differences before and after weighting.

``SMD = (mean_arm - mean_control) / sqrt((var_arm + var_control) / 2)`` for each column of the
confounder design (numbers as they are, every level of a category as a 0/1 indicator). The
denominator is the *unweighted* pooled standard deviation in both columns, so before/after differ
only through the means (the convention of Austin & Stuart 2015 and of ``cobalt``). ``|SMD| < 0.1`` is
the usual balance threshold.

References
----------
Austin, P. C. & Stuart, E. A. (2015). Moving towards best practice when using inverse probability of
treatment weighting (IPTW) using the propensity score to estimate causal treatment effects in
observational studies. Statistics in Medicine 34, 3661-3679.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..results import Result

SMD_THRESHOLD = 0.1


def balance_columns(frame: pd.DataFrame, confounders: list[str]) -> pd.DataFrame:
    """Numeric columns for balance: numbers as they are, each category level as an indicator."""
    cols = {}
    for c in confounders:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            s = s.astype(int)
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            cols[c] = s.to_numpy(dtype=float)
        else:
            levels = (
                list(s.cat.categories)
                if isinstance(s.dtype, pd.CategoricalDtype)
                else sorted(s.astype(str).unique())
            )
            vals = s.astype(str).to_numpy()
            for lv in levels:
                cols[f"{c}={lv}"] = (vals == str(lv)).astype(float)
    return pd.DataFrame(cols, index=frame.index)


def smd(values: np.ndarray, treated: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Standardised mean differences (columns of ``values``), arm minus control."""
    v = np.asarray(values, dtype=float)
    t = np.asarray(treated) == 1
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    m1 = np.average(v[t], axis=0, weights=w[t])
    m0 = np.average(v[~t], axis=0, weights=w[~t])
    sd = np.sqrt((v[t].var(axis=0, ddof=1) + v[~t].var(axis=0, ddof=1)) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, (m1 - m0) / sd, 0.0)


class BalanceResult(Result):
    """Balance table: contrast, covariate, smd_before, smd_after, balanced (|smd_after| < 0.1).

    ``plot()`` draws the love plot.
    """

    title = "Covariate balance (standardised mean differences)"
    key = "covariate"

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_love

        return plot_love(self, ax=ax, **kwargs)


# ------------------------------------------------------------------ balance that sees misspecification
MATERIAL_SMD = 0.02  # a detectable difference must also be at least this large to be flagged
FLAG_ALPHA = 0.05  # family-wise level of the Bonferroni rule over all distribution terms


def distribution_terms(frame: pd.DataFrame, spec) -> pd.DataFrame:
    """Columns whose balance shows a misspecified propensity model, with their kind.

    For each confounder of ``spec`` (a :class:`~workbench.effects.specification.Specification`):
    a category: each level; a number with few values: each value (pooled ends as in the model) and
    each cumulative ``<= value``; a continuous number: its standardised square and its natural-spline
    terms (knots of the flexible rule); and for each pair of confounders the products of their
    linear forms. Returns a DataFrame (columns = terms) and ``.attrs['kind']`` (term -> kind).
    """
    from .specification import _level_index, choose_specification, natural_spline

    flex = {t.column: t for t in choose_specification(frame, [t.column for t in spec.terms]).terms}
    cols, kind, linear = {}, {}, {}
    for t in spec.terms:
        c = t.column
        s = frame[c]
        ft = flex[c]
        if ft.kind == "category":
            vals = s.astype(str).to_numpy()
            block = {f"{c}={lv}": (vals == str(lv)).astype(float) for lv in ft.levels}
            for k, v in block.items():
                cols[k], kind[k] = v, "level"
            linear[c] = {f"{c}={lv}": block[f"{c}={lv}"] for lv in ft.levels[1:]}
            continue
        x = s.to_numpy(dtype=float)
        z = (x - ft.center) / ft.scale
        linear[c] = {c: z}
        if ft.kind == "levels":
            idx = _level_index(x, ft.cuts)
            for k, lv in enumerate(ft.levels):
                cols[f"{c}={lv}"], kind[f"{c}={lv}"] = (idx == k).astype(float), "level"
            for k, lv in enumerate(ft.levels[:-1]):
                name = f"{c}<={lv.lstrip('<=')}"
                cols[name], kind[name] = (idx <= k).astype(float), "cumulative"
        else:
            cols[f"{c}^2"], kind[f"{c}^2"] = z**2, "square"
            if ft.knots is not None:
                basis = natural_spline(x, ft.knots, ft.center, ft.scale)
                for j in range(1, basis.shape[1]):
                    cols[f"ns({c})[{j}]"], kind[f"ns({c})[{j}]"] = basis[:, j], "spline"
    names = [t.column for t in spec.terms]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for na, xa in linear[a].items():
                for nb, xb in linear[b].items():
                    key = f"{na} x {nb}"
                    cols[key], kind[key] = xa * xb, "interaction"
    out = pd.DataFrame(cols, index=frame.index)
    out.attrs["kind"] = kind
    return out


def weighted_difference_z(
    values: np.ndarray, treated: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """z statistic of the weighted mean difference of each column (weights held fixed).

    ``var(mean_a) = sum w_i^2 (x_i - mean_a)^2 / (sum w_i)^2`` per arm (the Hajek / sandwich variance).
    """
    v = np.asarray(values, dtype=float)
    t = np.asarray(treated) == 1
    w = np.asarray(weights, dtype=float)
    diff, var = 0.0, 0.0
    for mask, sign in ((t, 1.0), (~t, -1.0)):
        wa = w[mask]
        m = np.average(v[mask], axis=0, weights=wa)
        var = var + (wa[:, None] ** 2 * (v[mask] - m) ** 2).sum(axis=0) / wa.sum() ** 2
        diff = diff + sign * m
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, diff / np.sqrt(var), 0.0)


def weighted_ks(x: np.ndarray, treated: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov distance between the (weighted) distributions of ``x`` in the two arms."""
    x = np.asarray(x, dtype=float)
    t = np.asarray(treated) == 1
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(x, kind="stable")
    xs, ts, ws = x[order], t[order], w[order]
    f1 = np.cumsum(np.where(ts, ws, 0.0)) / ws[ts].sum()
    f0 = np.cumsum(np.where(ts, 0.0, ws)) / ws[~ts].sum()
    last = np.r_[xs[1:] != xs[:-1], True]  # compare the step functions at distinct values only
    return float(np.max(np.abs(f1 - f0)[last]))


def ks_critical(ess1: float, ess0: float, alpha: float) -> float:
    """Asymptotic two-sample KS critical value with effective sample sizes."""
    c = np.sqrt(-0.5 * np.log(alpha / 2))
    return float(c * np.sqrt((ess1 + ess0) / (ess1 * ess0)))


def calibration_table(score: np.ndarray, treated: np.ndarray, groups: int = 10) -> pd.DataFrame:
    """Observed share treated against the mean propensity in ``groups`` quantile groups of the score,
    with the Hosmer-Lemeshow statistic (``groups - 2`` df) in ``.attrs``.

    References
    ----------
    Hosmer, D. W. & Lemeshow, S. (1980). Goodness of fit tests for the multiple logistic regression
    model. Communications in Statistics A 9, 1035-1060.
    """
    from scipy import stats

    e = np.asarray(score, dtype=float)
    t = np.asarray(treated, dtype=float)
    edges = np.unique(np.quantile(e, np.linspace(0, 1, groups + 1)))
    g = np.clip(np.searchsorted(edges, e, side="right") - 1, 0, len(edges) - 2)
    k = len(edges) - 1
    n = np.bincount(g, minlength=k).astype(float)
    obs = np.bincount(g, weights=t, minlength=k)
    exp = np.bincount(g, weights=e, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        pbar = exp / n
        hl = np.nansum((obs - exp) ** 2 / (n * pbar * (1 - pbar)))
    df = max(k - 2, 1)
    tab = pd.DataFrame(
        {
            "group": np.arange(1, k + 1),
            "n": n.astype(int),
            "mean_propensity": pbar,
            "observed_share": obs / n,
        }
    )
    tab.attrs.update(statistic=float(hl), df=int(df), p_value=float(stats.chi2.sf(hl, df)))
    return tab
