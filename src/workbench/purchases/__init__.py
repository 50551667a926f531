"""Non-contractual customers: purchase histories, BG/NBD-family models, P(alive), spend and CLV."""

from .summary import CustomerSummary, rfm_summary, summary_from_arrays
from .transactions import TIME_UNITS, TransactionLog, TransactionSpec, load_transactions

__all__ = [
    "TIME_UNITS",
    "CustomerSummary",
    "TransactionLog",
    "TransactionSpec",
    "load_transactions",
    "rfm_summary",
    "summary_from_arrays",
]
