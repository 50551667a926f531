"""The built-in synthetic base's fixed design: causes, levels, true log hazard ratios and knobs.

Kept apart from :mod:`workbench.data.synthetic` (which simulates from them) so that each module stays
readable; :mod:`workbench.data.synthetic` re-exports every name.
"""

from __future__ import annotations

CAUSES = ("competitive", "price", "service_fault", "natural", "involuntary")
VOLUNTARY = ("competitive", "price", "service_fault")
CONTRACTS = ("month_to_month", "one_year", "two_year")
SEGMENTS = ("consumer", "small_business", "enterprise")
REGIONS = ("north", "south", "east", "west")
PAYMENT = ("bank_transfer", "credit_card", "electronic_check")
ANALYSIS_DATE = "2025-12-31"
HORIZONS = (6, 12, 24)
TAU = 24

# Design columns of the true linear predictors (see true_design).
TERMS = (
    "sat_1",
    "sat_2",
    "sat_4",
    "sat_5",
    "contract_one_year",
    "contract_two_year",
    "n_products_c",
    "charge_10",
    "perceived_value_c",
    "age_10",
    "n_complaints",
    "segment_small_business",
    "segment_enterprise",
    "electronic_check",
    "dissat_x_sc",
    "loyalty_programme",
    "retention_offer",
    "charge_threshold",
)

# log hazard ratios by cause; rows follow TERMS.
_LOG_HR = {
    #                        compet  price  fault  natural invol
    "sat_1": (1.00, 0.80, 1.20, 0.0, 0.0),
    "sat_2": (0.70, 0.55, 0.80, 0.0, 0.0),
    "sat_4": (-0.25, -0.20, -0.30, 0.0, 0.0),
    "sat_5": (-0.35, -0.25, -0.45, 0.0, 0.0),
    "contract_one_year": (-0.70, -0.50, -0.30, 0.0, -0.30),
    "contract_two_year": (-1.20, -0.90, -0.50, 0.0, -0.50),
    "n_products_c": (-0.15, -0.10, 0.05, 0.0, 0.0),
    "charge_10": (0.05, 0.25, 0.0, 0.0, 0.10),
    "perceived_value_c": (-0.20, -0.25, -0.10, 0.0, 0.0),
    "age_10": (-0.05, 0.0, 0.0, 0.35, -0.10),
    "n_complaints": (0.10, 0.0, 0.35, 0.0, 0.0),
    "segment_small_business": (-0.10, 0.10, 0.20, 0.0, 0.0),
    "segment_enterprise": (-0.30, -0.20, 0.30, 0.0, -0.50),
    "electronic_check": (0.0, 0.0, 0.0, 0.0, 0.70),
    "dissat_x_sc": (-0.15, -0.10, -0.15, 0.0, 0.0),
    "loyalty_programme": (-0.30, -0.25, 0.0, 0.0, 0.0),
    "retention_offer": (-0.40, -0.30, 0.0, 0.0, 0.0),
    "charge_threshold": (0.0, 0.0, 0.0, 0.0, 0.0),  # acts only with targeting="threshold"
}
# targeting="threshold": log HR of charge_threshold on the competitive and price causes
_THRESHOLD_LOG_HR = {"competitive": 0.5, "price": 0.5}
CHARGE_THRESHOLD = 85.0
TARGETINGS = ("risk", "threshold")
_SAT_TERMS = ("sat_1", "sat_2", "sat_4", "sat_5")

# switching-cost score used in the true interaction: contract steps and bundle size
SC_WEIGHTS = {"contract_one_year": 1.0, "contract_two_year": 2.0, "n_products_minus_1": 0.5}
