"""Adapter for the CDNOW purchase histories (master file and its 1/10 sample).

The files (``../shared/data/cdnow``; see its README) are whitespace-separated: the master file has a
header (``customer_id date number_of_cds dollar_value``); the 1/10 sample has none and carries the
master id, the sample id (1-2,357), date, number of CDs and dollar value. Dates are ``YYYYMMDD``.

The adapter returns a :class:`workbench.purchases.TransactionLog` in weeks with the rules the
published analyses use: same-day transactions merged into one purchase occasion; rows that repeat
another row exactly kept as purchases (21 in the sample: CDNOW recorded several identical orders on
one day, which the merge sums); zero-dollar transactions (8 in the sample) kept, since they are
purchase occasions that count towards frequency (spend models average them with the rest).

References
----------
Fader, P. S. & Hardie, B. G. S. (2001). Forecasting repeat sales at CDNOW: a case study.
*Interfaces*, 31(3), S94-S107.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import shared_dir
from ..exceptions import DatasetNotFoundError, ParameterError

FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}
#: the calibration / holdout split of the published analyses (39 + 39 weeks)
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def cdnow_dir() -> Path:
    """Default location: ``../shared/data/cdnow`` beside the project."""
    return shared_dir() / "data" / "cdnow"


def read_cdnow_frame(folder: str | Path | None = None, *, which: str = "sample") -> pd.DataFrame:
    """The raw CDNOW transactions: ``customer_id, date, quantity, amount`` (unchecked)."""
    if which not in FILES:
        raise ParameterError(f"`which` must be one of {list(FILES)}, got {which!r}.")
    folder = Path(folder).expanduser() if folder is not None else cdnow_dir()
    path = folder / FILES[which] if folder.is_dir() else folder
    if not path.is_file():
        raise DatasetNotFoundError(
            f"data_path '{folder}' has no '{FILES[which]}'. Point `data_path` at the folder of the CDNOW "
            "files (in this repository: ../shared/data/cdnow)."
        )
    if which == "sample":
        names = ["master_id", "customer_id", "date", "quantity", "amount"]
        df = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype={"date": str})
        return df.drop(columns="master_id")
    df = pd.read_csv(path, sep=r"\s+", dtype={"date": str})
    return df.rename(columns={"number_of_cds": "quantity", "dollar_value": "amount"})


def cdnow_spec():
    """The transaction spec of the CDNOW files (weeks; same-day merge; duplicates and $0 kept)."""
    from ..purchases.transactions import TransactionSpec

    return TransactionSpec(
        customer="customer_id",
        timestamp="date",
        amount="amount",
        quantity="quantity",
        time_unit="weeks",
        timestamp_format="%Y%m%d",
        same_day="merge",
        duplicates="keep",
        nonpositive_amounts="keep_zero",
        name="cdnow",
        description="CDNOW first-quarter-1997 cohort, purchases to 1998-06-30",
    )


def load_cdnow(folder: str | Path | None = None, *, which: str = "sample", spec=None):
    """Load the CDNOW 1/10 sample (default) or master file as a checked TransactionLog.

    Examples
    --------
    >>> log = load_cdnow()  # doctest: +SKIP
    >>> log.n_customers  # doctest: +SKIP
    2357
    """
    from ..purchases.transactions import _check

    frame = read_cdnow_frame(folder, which=which)
    spec = spec or cdnow_spec()
    return _check(frame, spec, name=f"cdnow-{which}", source=str(folder or cdnow_dir()))
