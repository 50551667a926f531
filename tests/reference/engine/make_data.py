"""Regenerate the small data sets the engine's R references are computed on.

Run from the repository root: ``.venv/bin/python tests/reference/engine/make_data.py``, then
``Rscript tests/reference/engine/make_reference.R``. Both outputs are committed (CI has no R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.data import simulate, true_design

HERE = Path(__file__).resolve().parent
COVARIATES = [
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
]


def make(unit: str, path: Path, n: int = 1_500, seed: int = 8) -> None:
    frame, _ = simulate(n, seed=seed, tenure_unit=unit)
    out = true_design(frame)[COVARIATES].copy()
    out.insert(0, "tenure", frame["tenure"].astype(float))
    out.insert(1, "churned", frame["churned"].astype(int))
    if unit == "days":  # whole months as well: heavy ties (about 70 distinct times)
        out.insert(1, "tenure_month", np.ceil(out["tenure"] / 30.4375).astype(int))
    rng = np.random.default_rng(seed + 1)
    out["segment"] = frame["segment"].astype(str)
    out["weight"] = np.round(rng.uniform(0.2, 3.0, n), 3)  # non-integer, IPW-like
    out["household"] = rng.integers(0, n // 3, n)  # clusters of about three customers
    out.to_csv(path, index=False, float_format="%.10g")


if __name__ == "__main__":
    make("days", HERE / "tied_days.csv")
    make("months", HERE / "continuous.csv")
