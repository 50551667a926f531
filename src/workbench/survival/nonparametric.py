"""Former home of Kaplan-Meier and RMST, kept so existing imports keep working.

The functions now live in :mod:`workbench.survival.km` (curves, median),
:mod:`workbench.survival.rmst` (restricted mean) and :mod:`workbench.survival.kernels` (the
product-limit, Greenwood, RMST-variance and log-rank arithmetic).
"""

from .kernels import km_estimate, rmst_from_curve
from .km import KaplanMeierResult, kaplan_meier
from .rmst import RMSTResult, rmst

__all__ = [
    "KaplanMeierResult",
    "RMSTResult",
    "kaplan_meier",
    "km_estimate",
    "rmst",
    "rmst_from_curve",
]
