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

    def plot(self, ax=None, **kwargs):
        from ..plotting.effects import plot_love

        return plot_love(self, ax=ax, **kwargs)
