"""One entry point from a notebook's data parameters to the customer summary of purchase histories."""

from __future__ import annotations

from ..exceptions import ParameterError
from .summary import CustomerSummary, rfm_summary
from .transactions import TransactionLog, load_transactions

__all__ = ["load_purchase_summary", "DATASETS"]

DATASETS = {
    "cdnow": "the CDNOW 1/10 sample (data_path: folder of the CDNOW files; default ../shared/data/cdnow)",
    "file": "your transaction log (data_path: CSV / Parquet) with its transaction spec (spec_path)",
    "simulated": "BG/NBD purchase histories with Gamma-Gamma spend and known parameters (n_customers, seed)",
}


def load_purchase_summary(
    dataset: str = "cdnow",
    *,
    data_path: str | None = None,
    spec_path: str | None = None,
    calibration_end=None,
    observation_end=None,
    time_unit: str | None = None,
    n_customers: int = 5000,
    seed: int = 0,
) -> tuple[TransactionLog | None, CustomerSummary]:
    """Load the transactions (if any) and summarise them for the calibration / holdout split.

    Returns
    -------
    (TransactionLog or None, CustomerSummary)
        The log is None for simulated histories (the simulator writes the summary directly, with
        the truth in ``summary.meta['truth']``).
    """
    name = str(dataset).strip().lower()
    if name == "simulated":
        from .simulate import simulate_bgnbd

        s = simulate_bgnbd(
            int(n_customers),
            r=0.25,
            alpha=4.0,
            a=0.8,
            b=2.5,
            spend=(6.0, 4.0, 15.0),
            seed=int(seed),
        )
        return None, s
    if name == "cdnow":
        from ..data.cdnow import CALIBRATION_END, OBSERVATION_END, load_cdnow

        log = load_cdnow(data_path or None)
        calibration_end = calibration_end or CALIBRATION_END
        observation_end = observation_end or OBSERVATION_END
    elif name in ("file", "csv", "parquet"):
        if not data_path or not spec_path:
            raise ParameterError(
                f"dataset {dataset!r} needs `data_path` (the transaction file) and `spec_path` (its transaction "
                f"spec YAML); got data_path={data_path!r}, spec_path={spec_path!r}."
            )
        log = load_transactions(data_path, spec_path)
    else:
        raise ParameterError(
            f"unknown dataset {dataset!r} for purchase histories. Valid: "
            + "; ".join(f"'{k}' ({v})" for k, v in DATASETS.items())
        )
    if not calibration_end:
        raise ParameterError(
            "`calibration_end` is required for your own transactions, e.g. '2024-06-30'."
        )
    return log, rfm_summary(
        log,
        calibration_end=calibration_end,
        observation_end=observation_end or None,
        time_unit=time_unit or None,
    )
