"""Coverage of the AIPW confidence intervals over simulated replications of the built-in data.

Each replication draws a fresh customer base (``simulate(n=2000, seed=1000 + r)``, the confounded
loyalty programme), estimates the AIPW survival difference at 12 months and the RMST difference up
to 24 months with their influence-function 95% CIs, and checks whether they cover that draw's true
effects (computed by the simulator from both potential outcomes). Replications run in parallel.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

N_REPS = 100
N_CUSTOMERS = 2_000
CONF = ["contract", "monthly_charge", "any_complaint", "low_satisfaction", "age"]


def one_replication(r: int) -> tuple[bool, bool, float]:
    from workbench.data import simulate
    from workbench.effects import InterventionStudy

    frame, truth = simulate(N_CUSTOMERS, seed=1000 + r)
    frame["any_complaint"] = (frame["n_complaints"] > 0).astype(int)
    frame["low_satisfaction"] = (frame["satisfaction"] <= 2).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = InterventionStudy(
            frame,
            treatment_col="loyalty_programme",
            control_arm="none",
            design="observational",
            confounders=CONF,
            duration_col="tenure",
            event_col="churned",
            horizons=[12],
            tau=24,
        )
        res = study.estimate("ipw", n_bootstrap=0).summary
    ate = truth["loyalty_programme"]["ate"]
    a = res[res["method"] == "aipw"].set_index("estimand")
    s, m = a.loc["survival_difference"], a.loc["rmst_difference"]
    cover_s = bool(s["ci_lower"] <= ate["survival_difference_12"] <= s["ci_upper"])
    cover_r = bool(m["ci_lower"] <= ate["rmst_difference_24"] <= m["ci_upper"])
    return cover_s, cover_r, float(m["estimate"] - ate["rmst_difference_24"])


@pytest.mark.slow
def test_aipw_coverage_over_replications():
    with ProcessPoolExecutor(max_workers=2) as ex:
        out = list(ex.map(one_replication, range(N_REPS), chunksize=10))
    cover_s = np.mean([o[0] for o in out])
    cover_r = np.mean([o[1] for o in out])
    bias = np.mean([o[2] for o in out])
    assert 0.90 <= cover_s <= 0.99, cover_s
    assert 0.90 <= cover_r <= 0.99, cover_r
    assert abs(bias) < 0.1  # months; the CI half-width is about 0.6
