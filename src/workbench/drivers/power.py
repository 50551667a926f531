"""Minimum detectable interaction (H3) at the sample size at hand.

For a Wald-type test of one coefficient with standard error ``se`` at two-sided level ``alpha``,
the smallest true coefficient detected with probability ``power`` is
``(z_{1-alpha/2} + z_{power}) * se``. The standard error of the interaction is taken from the fitted
model (it already reflects the number of events, the spread of satisfaction and of the
switching-cost index and their correlation with the covariates), so no variance formula has to be
assumed (Schoenfeld 1983 gives the same scaling with the number of events: ``se ~ 1/sqrt(events)``).
The table also extrapolates to other sample sizes by ``se * sqrt(n / n_other)``.

References
----------
Schoenfeld, D. (1983). Sample-size formula for the proportional-hazards regression model.
*Biometrics* 39, 499-503.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..exceptions import ParameterError
from ..results import Result


class PowerResult(Result):
    """Minimum detectable effect at the current and at other sample sizes."""

    title = "Minimum detectable interaction (power)"


def minimum_detectable_effect(
    se: float,
    *,
    n: int,
    alpha: float = 0.05,
    power: float = 0.8,
    estimate: float | None = None,
    sizes=(0.5, 1, 2, 4),
    term: str = "dissat_x_sc",
    scale: str = "log hazard ratio",
) -> PowerResult:
    """Minimum detectable coefficient (two-sided test) given its standard error at ``n`` customers.

    Parameters
    ----------
    se : float
        Standard error of the coefficient at the current sample size.
    n : int
        Current number of customers.
    alpha, power : float
    estimate : float, optional
        The observed estimate, to report the power to detect an effect of that size.
    sizes : sequence of float
        Multiples of ``n`` to extrapolate to.

    Examples
    --------
    >>> r = minimum_detectable_effect(0.01, n=20_000)
    >>> round(float(r.summary.loc[r.summary["n"] == 20_000, "mde"].iloc[0]), 4)
    0.028
    """
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ParameterError(
            f"`alpha` and `power` must be in (0, 1), got alpha={alpha!r}, power={power!r}."
        )
    if not (np.isfinite(se) and se > 0):
        raise ParameterError(f"`se` must be a positive number, got {se!r}.")
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    rows = []
    for m in sizes:
        n_m = int(round(n * m))
        s = se * np.sqrt(1 / m)
        mde = (za + zb) * s
        row = {
            "term": term,
            "n": n_m,
            "se": s,
            "mde": mde,
            "mde_hr": float(np.exp(-mde)),
            "power": power,
            "alpha": alpha,
        }
        if estimate is not None:
            ncp = abs(estimate) / s
            row["power_at_estimate"] = float(stats.norm.sf(za - ncp) + stats.norm.cdf(-za - ncp))
        rows.append(row)
    meta = {
        "n": n,
        "alpha": alpha,
        "method": f"(z_(1-alpha/2) + z_power) x SE, {scale}",
        "power": power,
    }
    return PowerResult(pd.DataFrame(rows), meta)


def interaction_power(hypotheses, *, power: float = 0.8, sizes=(0.5, 1, 2, 4)) -> PowerResult:
    """Minimum detectable H3 interaction for a :class:`~workbench.drivers.HypothesesResult`.

    Uses the interaction's standard error and estimate from the family's model B.
    """
    s = hypotheses.summary.set_index("hypothesis")
    if "H3" not in s.index:
        raise ParameterError("the hypotheses result has no H3 row; run evaluate_hypotheses first.")
    return minimum_detectable_effect(
        float(s.loc["H3", "se"]),
        n=int(hypotheses.meta["n"]),
        alpha=float(hypotheses.meta["alpha"]),
        power=power,
        estimate=float(s.loc["H3", "estimate"]),
        sizes=sizes,
        scale=str(s.loc["H3", "scale"]),
    )
