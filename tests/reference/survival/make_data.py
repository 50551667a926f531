"""Write ``small.csv``: a small synthetic data set with ties, integer weights, groups and strata.

Run from the project root: ``.venv/bin/python tests/reference/survival/make_data.py``. The R script
``make_reference.R`` reads it; the tests read it too, so both sides use the same rows.
"""

from pathlib import Path

import numpy as np

from workbench.data import simulate

frame, _ = simulate(600, seed=7)
rng = np.random.default_rng(7)
out = frame[["customer_id", "contract", "region", "churned"]].copy()
out.insert(1, "tenure", np.ceil(frame["tenure"].to_numpy()).astype(int))  # whole months: many ties
out["w"] = rng.integers(1, 4, size=len(out))  # integer case weights
out["customer_id"] = [f"S{i:04d}" for i in range(len(out))]
out["contract"] = out["contract"].astype(str)
out.to_csv(Path(__file__).with_name("small.csv"), index=False)
