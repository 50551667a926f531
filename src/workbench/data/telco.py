"""Adapter for the extended IBM Telco churn release (five CSV files, 7,043 customers).

Reads ``Telco_customer_churn_{status,services,demographics,location,population}.csv`` from a folder,
joins them on ``Customer ID`` (population on ``Zip Code``) and returns the canonical frame with its
spec (``specs/telco.yml``). Every source column is kept, renamed to snake_case
(``Monthly Charge`` -> ``monthly_charge``); the text ``None`` in ``Offer`` and ``Internet Type`` is
kept as the level ``None`` (pandas would read it as missing). Two derived columns are added:
``n_services``, the number of services the customer holds (a bundle-size switching cost), and
``entry_months = max(0, tenure_in_months - 3)``: the release is a one-quarter snapshot (``Churn
Value`` = left this quarter), so customers who left before the quarter are absent and everyone is
observed from the start of the quarter on (delayed entry, the spec's ``entry`` role).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..exceptions import DatasetNotFoundError
from .dataset import Dataset
from .schema import RoleSpec
from .validate import validate

FILES = {
    "status": "Telco_customer_churn_status.csv",
    "services": "Telco_customer_churn_services.csv",
    "demographics": "Telco_customer_churn_demographics.csv",
    "location": "Telco_customer_churn_location.csv",
    "population": "Telco_customer_churn_population.csv",
}
QUARTER_MONTHS = 3  # the observation window of the snapshot (one quarter)
ENTRY_COLUMN = "entry_months"  # derived: tenure at the start of the quarter
SERVICE_COLUMNS = (
    "phone_service",
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection_plan",
    "premium_tech_support",
    "streaming_tv",
    "streaming_movies",
    "streaming_music",
    "unlimited_data",
)


def snake_case(name: str) -> str:
    """``'Number of Referrals'`` -> ``'number_of_referrals'``."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", str(name)).strip("_").lower()
    return re.sub(r"_+", "_", s)


def _read(folder: Path, key: str) -> pd.DataFrame:
    p = folder / FILES[key]
    if not p.is_file():
        raise DatasetNotFoundError(
            f"data_path '{folder}' has no '{FILES[key]}'. The Telco adapter needs the five files of the "
            f"extended IBM release ({', '.join(FILES.values())}); point `data_path` at their folder "
            "(in this repository: ../shared/data/ibm-telco)."
        )
    df = pd.read_csv(p, keep_default_na=False, na_values=[""])
    return df.rename(columns=snake_case)


def read_telco_frame(folder: str | Path) -> pd.DataFrame:
    """The joined, snake_cased frame (unvalidated)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"data_path '{folder}' is not a folder. Point `data_path` at the folder holding the five "
            "Telco CSV files (in this repository: ../shared/data/ibm-telco)."
        )
    status = _read(folder, "status")
    frame = status
    for key in ("services", "demographics", "location"):
        part = _read(folder, key)
        dup = [c for c in part.columns if c in frame.columns and c != "customer_id"]
        frame = frame.merge(
            part.drop(columns=dup), on="customer_id", how="left", validate="one_to_one"
        )
    pop = _read(folder, "population").drop(columns=["id"], errors="ignore")
    frame = frame.merge(pop, on="zip_code", how="left", validate="many_to_one")
    yes = frame[list(SERVICE_COLUMNS)].astype(str).eq("Yes")
    frame["n_services"] = yes.sum(axis=1).astype(int)
    # the release is a one-quarter snapshot: customers who left before the quarter are absent, so
    # every customer is observed from max(0, tenure - 3) months on (delayed entry)
    tenure = pd.to_numeric(frame["tenure_in_months"], errors="coerce")
    frame[ENTRY_COLUMN] = (tenure - QUARTER_MONTHS).clip(lower=0)
    return frame


def telco_spec() -> RoleSpec:
    from ..config import specs_dir

    return RoleSpec.from_yaml(specs_dir() / "telco.yml")


def load_telco(folder: str | Path | None = None, spec: RoleSpec | None = None) -> Dataset:
    """Load the extended IBM Telco release from ``folder`` (default ``../shared/data/ibm-telco``).

    Examples
    --------
    >>> from workbench.config import telco_dir
    >>> ds = load_telco(telco_dir())
    >>> ds.n, ds.events
    (7043, 1869)
    """
    from ..config import telco_dir

    folder = Path(folder) if folder is not None else telco_dir()
    frame = read_telco_frame(folder)
    return validate(frame, spec or telco_spec(), name="telco", source=str(folder))
