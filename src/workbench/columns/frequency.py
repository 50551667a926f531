"""Frequency weights (whole numbers of identical customers per row): the checks and the one
expanded-rows quantile, shared by the estimators that accept them (the cells of
:func:`workbench.aggregate.counts` carry their counts this way)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError

__all__ = ["frequency_weights", "quantiles"]


def frequency_weights(
    frame: pd.DataFrame, weights_col: str | None, *, func: str, what: str, entry_col=None
) -> np.ndarray | None:
    """Checked frequency weights (numeric, complete, >= 0, whole numbers), or None.

    ``what`` names the quantity that needs counts (in the message); an ``entry_col`` given with
    weights is refused (the delayed-entry estimators take one row per customer).

    Examples
    --------
    >>> frequency_weights(pd.DataFrame({"n": [2, 3]}), "n", func="f", what="x").tolist()
    [2.0, 3.0]
    """
    if weights_col is None:
        return None
    from .arrays import weights_array

    if entry_col is not None:
        raise ParameterError(
            f"{func}: `weights_col` cannot be combined with `entry_col` (the delayed-entry "
            "estimator takes one row per customer); drop one of them."
        )
    w = weights_array(frame, weights_col, func=func)
    frac = w != np.round(w)
    if frac.any():
        raise ParameterError(
            f"{func}: `weights_col`='{weights_col}' holds frequency weights (whole numbers of "
            f"customers per row), got {int(frac.sum()):,} fractional value(s) such as "
            f"{float(w[frac][0]):g}; {what} is defined for counts. Round them, or use the rows."
        )
    return w


def quantiles(values, q, weights=None) -> np.ndarray:
    """``np.quantile(values, q)`` (linear rule) of the rows, or of the expanded rows when
    ``weights`` are frequency weights (without expanding them).

    Examples
    --------
    >>> quantiles(np.array([1.0, 2.0]), [0.5], np.array([3.0, 1.0])).tolist()
    [1.0]
    """
    values = np.asarray(values, dtype=float)
    if weights is None:
        return np.quantile(values, q)
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(np.asarray(weights, dtype=float)[order])
    h = (cum[-1] - 1) * np.asarray(q, dtype=float)
    lo = np.floor(h)
    x_lo = v[np.searchsorted(cum, lo, side="right")]
    x_hi = v[np.minimum(np.searchsorted(cum, lo + 1, side="right"), len(v) - 1)]
    return x_lo + (h - lo) * (x_hi - x_lo)
