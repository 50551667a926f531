"""H2: do higher switching costs go with higher retention? Each switching-cost variable on its own.

The family test of H2 uses the switching-cost index (:mod:`workbench.drivers.family`); this module
fits satisfaction (linear) + every switching-cost variable standardised separately + covariates, so a
reader sees which of them carries the association (coefficients per SD of each variable, on the
outcome view's scale).
"""

from __future__ import annotations

import pandas as pd

from .design import DriverData, build_design
from .fitting import Prepared, fit_view


def switching_costs_separately(
    dd: DriverData, prep: Prepared, *, firth, alpha: float = 0.05, sink: list | None = None
) -> pd.DataFrame:
    """Coefficient table (term ``sc:<column>``, estimate, se, ci_lower, ci_upper, ...) of each
    switching-cost variable per SD, adjusted for satisfaction, the others and the covariates."""
    XS, gS, infoS = build_design(dd, satisfaction_form="linear", switching_costs="separate")
    fS = fit_view(
        prep,
        XS,
        infoS,
        firth=firth,
        alpha=alpha,
        label=f"{prep.label}, switching costs separately",
        sink=sink if sink is not None else [],
        check_epp=False,
    )
    tab = fS.fit.table(alpha)
    return tab[tab["term"].isin(gS["switching_costs"])].reset_index(drop=True)


__all__ = ["switching_costs_separately"]
