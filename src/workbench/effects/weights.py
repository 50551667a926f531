"""Balancing weights from propensity scores: stabilised IPW (optionally truncated) and overlap weights.

For one arm against control with propensity ``e = P(arm | x)``:

* ``ipw``: stabilised inverse-probability weights ``P(A=a) / e`` for the arm, ``P(A=0) / (1 - e)``
  for control (estimand: the average effect in the arm + control population, ATE);
* ``overlap``: ``1 - e`` for the arm, ``e`` for control (estimand: the average effect in the
  overlap population, ATO; bounded weights, exact mean balance for logistic propensities);
* ``none``: all ones.

``trim`` truncates the propensities to ``[trim, 1 - trim]`` before weighting (no customer is dropped).

References
----------
Robins, J. M., Hernan, M. A. & Brumback, B. (2000). Marginal structural models and causal inference in
epidemiology. Epidemiology 11, 550-560.
Li, F., Morgan, K. L. & Zaslavsky, A. M. (2018). Balancing covariates via propensity score weighting.
JASA 113, 390-400.
Cole, S. R. & Hernan, M. A. (2008). Constructing inverse probability weights for marginal structural
models. Am J Epidemiol 168, 656-664.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError

WEIGHTINGS = ("ipw", "overlap", "none")
TOP_SHARE = 0.01  # the top 1% of customers by weight ...
EXTREME_SHARE = 0.10  # ... must not carry more than 10% of their arm's weight
POSITIVITY_BOUNDS = (0.01, 0.99)


def check_weighting(weighting: str) -> str:
    if weighting not in WEIGHTINGS:
        raise ParameterError(
            f"`weighting` must be one of {WEIGHTINGS}, got {weighting!r}. Use 'ipw' for stabilised "
            "inverse-probability weights, 'overlap' for overlap weights, 'none' for the unadjusted contrast."
        )
    return weighting


def check_trim(trim) -> float | None:
    if trim is None:
        return None
    if not isinstance(trim, (int, float)) or isinstance(trim, bool) or not 0 <= trim < 0.5:
        raise ParameterError(
            f"`trim` must be a number in [0, 0.5) (propensity truncation bound), got {trim!r}."
        )
    return float(trim) or None


def balancing_weights(
    score: np.ndarray,
    treated: np.ndarray,
    weighting: str,
    *,
    trim: float | None = None,
    freq: np.ndarray | None = None,
) -> np.ndarray:
    """Weights of the arm-vs-control customers (``treated`` is 1 for the arm, 0 for control)."""
    e = np.asarray(score, dtype=float)
    if trim:
        e = np.clip(e, trim, 1 - trim)
    t = np.asarray(treated, dtype=float)
    if weighting == "none":
        return np.ones_like(e)
    if weighting == "overlap":
        return np.where(t == 1, 1 - e, e)
    f = np.ones_like(e) if freq is None else freq
    p1 = np.sum(f * t) / np.sum(f)
    with np.errstate(divide="ignore"):
        return np.where(t == 1, p1 / e, (1 - p1) / (1 - e))


def weight_summary(w: np.ndarray, treated: np.ndarray, arm: str, control: str) -> list[dict]:
    """One row per arm: n, sum and spread of weights, effective sample size, top-1% share."""
    rows = []
    for label, mask in ((arm, treated == 1), (control, treated == 0)):
        x = np.sort(w[mask])[::-1]
        k = max(1, int(np.ceil(TOP_SHARE * len(x))))
        rows.append(
            {
                "contrast": f"{arm} vs {control}",
                "group": label,
                "n": int(len(x)),
                "sum_weights": float(x.sum()),
                "mean": float(x.mean()),
                "min": float(x.min()),
                "max": float(x.max()),
                "ess": float(x.sum() ** 2 / np.sum(x**2)),
                "top1pct_n": k,
                "top1pct_share": float(x[:k].sum() / x.sum()),
            }
        )
    return rows


def extreme_weight_messages(rows: list[dict]) -> list[str]:
    """Plain messages for arms where the top 1% of customers carry more than 10% of the weight."""
    out = []
    for r in rows:
        if r["top1pct_share"] > EXTREME_SHARE:
            out.append(
                f"extreme weights in '{r['group']}' ({r['contrast']}): {r['top1pct_n']:,} of {r['n']:,} "
                f"customers (1%) carry {r['top1pct_share']:.0%} of the weight (largest weight {r['max']:.1f}, "
                f"effective sample size {r['ess']:,.0f}). Consider weighting='overlap', trim=0.01, or a "
                "narrower study population."
            )
    return out


def positivity_messages(
    score: np.ndarray,
    treated: np.ndarray,
    frame: pd.DataFrame,
    confounders: list[str],
    arm: str,
    control: str,
) -> list[str]:
    """Messages naming how many customers have propensities outside [0.01, 0.99] and where they sit."""
    lo, hi = POSITIVITY_BOUNDS
    out = []
    for label, mask in ((f"below {lo}", score < lo), (f"above {hi}", score > hi)):
        k = int(mask.sum())
        if k == 0:
            continue
        where = describe_where(frame.loc[mask], frame, confounders)
        out.append(
            f"positivity ({arm} vs {control}): {k:,} customers have a propensity {label}, i.e. (almost) no "
            f"comparable customer in the other arm{where}. Their effect rests on extrapolation; consider "
            "weighting='overlap' or restricting the population."
        )
    return out


def describe_where(sub: pd.DataFrame, frame: pd.DataFrame, confounders: list[str]) -> str:
    """`` (mostly contract='two_year' (90%); monthly_charge 20 to 30)`` style description of ``sub``."""
    bits = []
    for c in confounders:
        s = sub[c]
        if pd.api.types.is_numeric_dtype(s) and s.nunique() > 6:
            bits.append(
                f"{c} {s.min():.4g} to {s.max():.4g} (all: {frame[c].min():.4g} to {frame[c].max():.4g})"
            )
        else:
            top = s.astype(str).value_counts(normalize=True)
            if (
                len(top)
                and top.iloc[0] >= 0.8
                and frame[c].astype(str).value_counts(normalize=True).get(top.index[0], 0) < 0.8
            ):
                bits.append(f"{c}='{top.index[0]}' ({top.iloc[0]:.0%})")
    return f" (mostly {'; '.join(bits[:3])})" if bits else ""
