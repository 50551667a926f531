"""Standardised errors of the delayed-entry Kaplan-Meier of a simulated snapshot (a check kept with
its result in ``docs/histories.md``).

Usage: ``PYTHONPATH=src .venv/bin/python benchmarks/histories_km_zscores.py``. Eight replicates
(seeds 1000-1007) of 50,000 customers, surveys every 12 months, the truth from 300,000 uncensored
customers; prints ``(estimate - truth) / se`` at 6, 12, 24 and 48 months per replicate, and their
mean and standard deviation (about 0 and 1 for an unbiased estimator with a correct SE).
"""

import warnings

import numpy as np

from workbench.data.histories import simulate_histories, snapshot
from workbench.survival import kaplan_meier

warnings.simplefilter("ignore")

H = [6.0, 12.0, 24.0, 48.0]
zs = []
for seed in range(1000, 1008):
    h, truth = simulate_histories(50000, seed=seed, truth_customers=300000, survey_rate=1 / 12)
    s = snapshot(h)
    km = kaplan_meier(s, duration_col="tenure", event_col="churned", entry_col="entry", times=H)
    a = km.tables["at_times"]
    tv = np.array([truth["survival"][truth["grid"].index(t)] for t in H])
    se = (
        (np.log(a["ci_upper"]) - np.log(a["ci_lower"])).to_numpy()
        / (2 * 1.96)
        * a["survival"].to_numpy()
    )
    z = (a["survival"].to_numpy() - tv) / se
    zs.append(z)
    print(seed, np.round(z, 2), flush=True)
zs = np.array(zs)
print("mean z", zs.mean(0).round(2), "sd", zs.std(0).round(2))
