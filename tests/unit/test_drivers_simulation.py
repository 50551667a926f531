"""Simulation checks of the H1 test's size and the interaction CI's coverage (200 replications).

Null variant (size of H1): ``simulate(n=1500, seed=s, satisfaction_effect=0, competing_risks=False)``;
the H1 test is the code path of :func:`workbench.drivers.evaluate_hypotheses` (model A: satisfaction
linear + switching-cost index + the spec's covariates, Cox, likelihood-ratio test of ``sat_linear``).

Coverage of the interaction: ``simulate(n=1500, seed=s, competing_risks=False)`` (one cause, one
proportional-hazards model) and a Cox model with exactly the columns of
``workbench.data.true_design`` (the data-generating design, so the truth
``truth['log_hr']['voluntary']['dissat_x_sc'] = -0.15`` is the model's parameter); 95% Wald CI.
n = 1,500 (about 470 events) rather than 1,000: at n = 1,000 (about 310 events) the model-based SE of
the interaction is about 8% smaller than the spread of its estimates, and coverage was 92.3% over 300
replications (90.0% over these 200), a small-sample effect of the Wald interval, not a bias.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

N_REPS = 200
N = 1_500


def _one(seed: int):
    import warnings

    from workbench.data import simulate, synthetic_spec, true_design
    from workbench.drivers import resolve_inputs
    from workbench.drivers.design import build_design
    from workbench.drivers.fitting import Prepared, fit_view
    from workbench.drivers.models import fit_cox, single_thread
    from workbench.drivers.terms import term_test

    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore")
        # size: null variant, package code path of H1 (the spec's roles and covariates)
        frame0, _ = simulate(N, 10_000 + seed, satisfaction_effect=0.0, competing_risks=False)
        spec = synthetic_spec()
        dd = resolve_inputs(
            frame0,
            duration_col="tenure",
            event_col="churned",
            satisfaction_col="satisfaction",
            switching_cost_cols=spec.switching_costs,
            covariates=spec.covariates,
            satisfaction_scale=(1, 5),
        )
        prep = Prepared(dd, "cox")
        X, _, info = build_design(dd, satisfaction_form="linear")
        full = fit_view(prep, X, info, firth=False)
        p_h1 = term_test(full, ["sat_linear"])["p_value"]
        # coverage: correctly specified Cox model
        frame, truth = simulate(N, 20_000 + seed, competing_risks=False)
        D = true_design(frame)
        fit = fit_cox(D.to_numpy(float), frame["tenure"], frame["churned"], names=list(D.columns))
        j = fit.index("dissat_x_sc")
        lo, hi = fit.wald_ci(0.05)[j]
        true = truth["log_hr"]["voluntary"]["dissat_x_sc"]
    return p_h1, lo <= true <= hi, fit.params_[j] - true


@pytest.mark.slow
def test_h1_size_and_interaction_coverage():
    """Over 200 replications: false-positive rate of H1 in [2%, 8%] and 95% CI coverage of the
    interaction in [91%, 99%]; the interaction estimate is unbiased within Monte Carlo error."""
    with ProcessPoolExecutor(2) as ex:
        out = list(ex.map(_one, range(N_REPS)))
    p = np.array([o[0] for o in out])
    covered = np.array([o[1] for o in out])
    bias = np.array([o[2] for o in out])
    fpr = float(np.mean(p < 0.05))
    coverage = float(np.mean(covered))
    print(
        f"H1 false-positive rate {fpr:.3f}; interaction CI coverage {coverage:.3f}; mean bias {bias.mean():+.4f}"
    )
    assert 0.02 <= fpr <= 0.08, fpr
    assert 0.91 <= coverage <= 0.99, coverage
    assert abs(bias.mean()) < 3 * bias.std() / np.sqrt(N_REPS), (bias.mean(), bias.std())
    # p-values under the null are roughly uniform (not only at 0.05)
    assert 0.35 <= np.mean(p < 0.5) <= 0.65


@pytest.mark.slow
def test_h1_size_under_forced_firth():
    """Small version of ``benchmarks/drivers_firth_size.py`` (table in ``docs/drivers-firth-size.md``):
    20 data sets of 400 customers, satisfaction unrelated to churn, a separating covariate, Firth
    forced in the Cox, discrete-time and horizon views. The penalised LR test with the full model's
    penalty keeps its size (at most 4 of 20 rejections per view: P(X >= 5) = 0.003 at a true 5%),
    while the pre-fix statistic (the reduced model's own penalty) rejects in most data sets."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from drivers_firth_size import run

    df = run(20, 400, workers=2)
    rate = df.groupby("view")["p"].apply(lambda p: float(np.mean(p < 0.05)))
    print(rate.to_string())
    assert len(rate) == 4 and (rate <= 0.2).all(), rate
    assert df["separation_found"].all()
    old = df["p_reduced_penalty"].dropna()
    assert len(old) == 60 and np.mean(old < 0.05) > 0.5
