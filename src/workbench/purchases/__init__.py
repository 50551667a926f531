"""Non-contractual customers: purchase histories, BG/NBD-family models, P(alive), spend and CLV.

Data in: :func:`load_transactions` (CSV, Parquet, DuckDB; a :class:`TransactionSpec` declares roles
and the time unit) -> :func:`rfm_summary` (calibration / holdout split) -> :func:`loyalty_measures`.
Models: :func:`fit_bgnbd`, :func:`fit_paretonbd`, :func:`fit_mbgnbd`, :func:`fit_bgbb`,
:func:`fit_gammagamma`. Predictions: :func:`predict_customers` (P(alive), expected purchases, spend,
discounted CLV, with intervals). Validation: :func:`tracking`, :func:`conditional_expectations`,
:func:`compare_models`. Decisions: :func:`priority_list`. Simulation: :func:`simulate_bgnbd`,
:func:`simulate_paretonbd`.
"""

from ._mle import BoundaryWarning, PurchaseModelResult
from .bgbb import fit_bgbb
from .bgnbd import fit_bgnbd
from .decisions import PriorityListResult, priority_list
from .findings import key_findings
from .gammagamma import SpendFrequencyDependenceWarning, fit_gammagamma
from .loyalty import LoyaltyResult, loyalty_measures
from .mbgnbd import fit_mbgnbd
from .paretonbd import fit_paretonbd
from .predict import CustomerPredictionResult, predict_customers
from .simulate import simulate_bgnbd, simulate_paretonbd
from .sources import load_purchase_summary
from .summary import CustomerSummary, rfm_summary, summary_from_arrays
from .transactions import TIME_UNITS, TransactionLog, TransactionSpec, load_transactions
from .validation import compare_models, conditional_expectations, holdout_errors, tracking

FITTERS = {"bgnbd": fit_bgnbd, "paretonbd": fit_paretonbd, "mbgnbd": fit_mbgnbd}

__all__ = [
    "FITTERS",
    "TIME_UNITS",
    "BoundaryWarning",
    "CustomerPredictionResult",
    "CustomerSummary",
    "LoyaltyResult",
    "PriorityListResult",
    "PurchaseModelResult",
    "SpendFrequencyDependenceWarning",
    "TransactionLog",
    "TransactionSpec",
    "compare_models",
    "conditional_expectations",
    "fit_bgbb",
    "fit_bgnbd",
    "fit_gammagamma",
    "fit_mbgnbd",
    "fit_paretonbd",
    "holdout_errors",
    "key_findings",
    "load_purchase_summary",
    "load_transactions",
    "loyalty_measures",
    "predict_customers",
    "priority_list",
    "rfm_summary",
    "simulate_bgnbd",
    "simulate_paretonbd",
    "summary_from_arrays",
    "tracking",
]
