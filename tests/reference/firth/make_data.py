"""Regenerate the small data sets of the Firth-penalised Cox references.

Run from the repository root: ``PYTHONPATH=src .venv/bin/python tests/reference/firth/make_data.py``,
then ``Rscript tests/reference/firth/make_reference.R``. Both outputs are committed (CI has no R).

* ``leak.csv``: 400 simulated customers (monthly tenure, so heavy ties), with ``leak`` = 1 for the
  churners of the first quartile of tenure only (a tenure-derived flag that separates: monotone
  likelihood), integer case weights, a delayed entry and the region as strata.
* ``rossi.csv``: lifelines' Rossi recidivism data (``lifelines.datasets.load_rossi``), where
  lifelines' own separation test sets ``paro`` equal to ``arrest``.
The Telco case is read by the R script and the tests from the shared data (never copied in).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.data import simulate

HERE = Path(__file__).resolve().parent


def make_leak(n: int = 400, seed: int = 11) -> None:
    frame, _ = simulate(n, seed=seed)
    rng = np.random.default_rng(seed)
    t = frame["tenure"].astype(float).round()
    t = t.where(t > 0, 1.0)
    out = frame[["churned", "age", "region"]].copy()
    out.insert(0, "tenure", t)
    out["leak"] = ((frame["churned"] == 1) & (t <= t.quantile(0.25))).astype(int)
    out["two_year"] = (frame["contract"].astype(str) == "two_year").astype(int)
    out["age"] = (out["age"] - 40) / 10
    out["weight"] = rng.integers(1, 4, n)
    out["entry"] = np.floor(t * rng.uniform(0, 0.5, n) * (rng.random(n) < 0.3)) - 0.5
    out["region"] = out["region"].astype(str)
    out.to_csv(HERE / "leak.csv", index=False)


def make_rossi() -> None:
    from lifelines.datasets import load_rossi

    load_rossi().to_csv(HERE / "rossi.csv", index=False)


if __name__ == "__main__":
    make_leak()
    make_rossi()
