"""The benchmark cases, one function per (case, tool); each runs in a fresh worker process.

A case function gets the case's data (loaded before timing) and returns a callable that does the
timed work once, plus optional ``check`` values (e.g. the Cox coefficients) that the report
compares across tools. Nothing here is timed itself: :func:`run_worker` times the callable.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

COVARIATES = [
    "sat_1", "sat_2", "sat_4", "sat_5", "contract_one_year", "contract_two_year",
    "n_products_c", "charge_10", "perceived_value_c", "age_10",
]  # fmt: skip
GROUP = "region"  # 4 levels, for Kaplan-Meier and the log-rank test
PREDICT_TIMES = np.linspace(30, 2160, 25)  # days: about monthly up to 72 months
SLOW_SECONDS = 10.0  # a first run slower than this is not repeated
FAST_SECONDS, FAST_REPEATS = 1.0, 7  # 3 runs each under 1 s: 7 runs (as r_worker.R)
IPW_CONFOUNDERS = ["contract", "monthly_charge", "age", "n_complaints", "satisfaction"]


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished child processes (the bootstrap's worker
    pool), so a parallel case reports all the CPU time it used."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------------ data
def prepare(n: int, seed: int, datadir: Path) -> dict:
    """Simulate ``n`` customers (timed: the 'simulate' case) and write the case data files.

    Returns the simulate timing and peak memory measured right after simulating (before the
    files are built), so the case's peak is the simulation's own.
    """
    from workbench.data import simulate, true_design

    c0, t0 = time.process_time(), time.perf_counter()
    frame, _ = simulate(n, seed=seed, tenure_unit="days")
    secs, cpu, peak = time.perf_counter() - t0, time.process_time() - c0, peak_mb()
    X = true_design(frame)[COVARIATES]
    rng = np.random.default_rng(seed + 1)
    data = pd.DataFrame(
        {
            "tenure": frame["tenure"].astype(float),
            # continuous tenure (no ties): the day minus a uniform fraction of it
            "tenure_cont": frame["tenure"].astype(float) - rng.random(n),
            "churned": frame["churned"].astype(int),
            "group": pd.factorize(frame[GROUP], sort=True)[0].astype(float),
            # strata for the stratified log-rank (contract x segment: 9 strata)
            "stratum_a": pd.factorize(frame["contract"], sort=True)[0].astype(float),
            "stratum_b": pd.factorize(frame["segment"], sort=True)[0].astype(float),
        }
    )
    from _cases_user import extra_columns

    data = pd.concat(
        [data, X.reset_index(drop=True), extra_columns(frame, X).reset_index(drop=True)], axis=1
    )
    datadir.mkdir(parents=True, exist_ok=True)
    data.to_parquet(datadir / f"cox_{n}.parquet")
    # the same numbers for R: float64 column-major binary + column names
    np.asfortranarray(data.to_numpy(dtype=float)).T.tofile(datadir / f"cox_{n}.bin")
    (datadir / f"cox_{n}.cols").write_text("\n".join(data.columns) + "\n")
    frame.to_parquet(datadir / f"frame_{n}.parquet")  # raw customer frame, for validation
    return {
        "times": [secs],
        "cpu": [cpu],
        "peak_mb": peak,
        "note": "one run (the simulation also produces the benchmark data)",
        "distinct_days": int(frame["tenure"].nunique()),
        "events": int(frame["churned"].sum()),
    }


def _load(datadir: Path, n: int) -> pd.DataFrame:
    return pd.read_parquet(Path(datadir) / f"cox_{n}.parquet")


# ------------------------------------------------------------------------------------ cases
def _cox_arrays(df, duration):
    return df[COVARIATES].to_numpy(dtype=float), df[duration].to_numpy(), df["churned"].to_numpy()


def cox_workbench(df, duration):
    from workbench.survival.engine import cox_fit

    X, t, e = _cox_arrays(df, duration)
    out = {}

    def run():
        out["fit"] = cox_fit(X, t, e, ties="efron")

    return run, lambda: out["fit"].params


def cox_workbench_lifelines_api(df, duration):
    from workbench.survival.engine import EngineCoxPHFitter

    d = df[COVARIATES + [duration, "churned"]]
    out = {}

    def run():
        out["fit"] = EngineCoxPHFitter().fit(d, duration, "churned")

    return run, lambda: out["fit"].params_.to_numpy()


def cox_workbench_fit_cox(df, duration, ph_test=False):
    """``fit_cox`` on the frame: design, engine fit, baseline hazard, result. Harrell's C is
    computed on the first read of ``meta`` (as lifelines' ``concordance_index_``), so the plain row
    leaves it out; the ``+ ph_test`` row is notebook 02's path: the fit, the proportional-hazards
    test (R cox.zph) and both results recorded (``to_record()``, as ``workbench.record``), which
    reads the concordance."""
    from workbench.survival import fit_cox

    d = df[COVARIATES + [duration, "churned"]]
    out = {}

    def run():
        out["fit"] = fit_cox(d, duration_col=duration, event_col="churned", covariates=COVARIATES)
        if ph_test:
            out["fit"].ph_test().to_record()
            out["fit"].to_record()  # reads meta: the concordance is computed here

    return run, lambda: out["fit"].params_.to_numpy()


def logrank_workbench(df, strata):
    from workbench.survival import logrank_test

    d = df[["tenure", "churned", "group", "stratum_a", "stratum_b"]]

    out = {}

    def run():
        out["r"] = logrank_test(
            d,
            duration_col="tenure",
            event_col="churned",
            group_col="group",
            strata=["stratum_a", "stratum_b"] if strata else None,
        )

    return run, lambda: [out["r"].statistic]


def logrank_statsmodels(df, strata):
    from statsmodels.duration.survfunc import survdiff

    t, e, g = df["tenure"].to_numpy(), df["churned"].to_numpy(), df["group"].to_numpy()
    s = (df["stratum_a"] * 10 + df["stratum_b"]).to_numpy() if strata else None
    out = {}

    def run():
        out["r"] = survdiff(t, e, g, strata=s)

    return run, lambda: [out["r"][0]]


def logrank_lifelines(df):
    from lifelines.statistics import multivariate_logrank_test

    out = {}

    def run():
        out["r"] = multivariate_logrank_test(df["tenure"], df["group"], df["churned"])

    return run, lambda: [out["r"].test_statistic]


def cox_lifelines(df, duration):
    from lifelines import CoxPHFitter

    d = df[COVARIATES + [duration, "churned"]]
    out = {}

    def run():
        out["fit"] = CoxPHFitter().fit(d, duration, "churned")

    return run, lambda: out["fit"].params_.to_numpy()


def cox_statsmodels(df, duration):
    from statsmodels.duration.hazard_regression import PHReg

    X, t, e = _cox_arrays(df, duration)
    out = {}

    def run():
        out["fit"] = PHReg(t, X, status=e, ties="efron").fit()

    return run, lambda: np.asarray(out["fit"].params)


def cox_sksurv(df, duration):
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    X, t, e = _cox_arrays(df, duration)
    y = Surv.from_arrays(e.astype(bool), t)
    out = {}

    def run():
        out["fit"] = CoxPHSurvivalAnalysis(ties="efron").fit(X, y)

    return run, lambda: out["fit"].coef_


def km_workbench(df):
    from workbench.survival import kaplan_meier
    from workbench.survival.logrank import logrank_test

    d = df[["tenure", "churned", "group"]]

    def run():
        kaplan_meier(d, duration_col="tenure", event_col="churned", group_col="group")
        return logrank_test(d, duration_col="tenure", event_col="churned", group_col="group")

    return run, None


def km_lifelines(df):
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    def run():
        for _, g in df.groupby("group"):
            KaplanMeierFitter().fit(g["tenure"], g["churned"])
        return multivariate_logrank_test(df["tenure"], df["group"], df["churned"])

    return run, None


def km_statsmodels(df):
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    def run():
        for _, g in df.groupby("group"):
            SurvfuncRight(g["tenure"].to_numpy(), g["churned"].to_numpy())
        return survdiff(df["tenure"].to_numpy(), df["churned"].to_numpy(), df["group"].to_numpy())

    return run, None


def km_sksurv(df):
    from sksurv.compare import compare_survival
    from sksurv.nonparametric import kaplan_meier_estimator
    from sksurv.util import Surv

    y = Surv.from_arrays(df["churned"].astype(bool).to_numpy(), df["tenure"].to_numpy())
    grp = df["group"].to_numpy()

    def run():
        for g in np.unique(grp):
            m = grp == g
            kaplan_meier_estimator(y["event"][m], y["time"][m], conf_type="log-log")
        return compare_survival(y, grp)

    return run, None


def predict_workbench(df):
    from workbench.survival.engine import cox_fit, predict_survival

    X, t, e = _cox_arrays(df, "tenure")
    fit = cox_fit(X, t, e)

    def run():
        return predict_survival(fit.params, fit.baseline, X, PREDICT_TIMES, chunk_size=100_000)

    return run, None


def predict_lifelines(df):
    # the same lifelines object, fitted on the engine (fast); only the prediction is timed
    from workbench.survival.engine import EngineCoxPHFitter

    d = df[COVARIATES + ["tenure", "churned"]]
    cph = EngineCoxPHFitter().fit(d, "tenure", "churned")

    def run():
        return cph.predict_survival_function(d[COVARIATES], times=PREDICT_TIMES)

    return run, None


def validate_workbench(datadir, n):
    import dataclasses

    from workbench.data import synthetic_spec, validate

    frame = pd.read_parquet(Path(datadir) / f"frame_{n}.parquet")
    spec = dataclasses.replace(synthetic_spec(), tenure_unit="days")  # simulated in days

    def run():
        return validate(frame, spec, name="synthetic")

    return run, None


def ipw_workbench(n, seed):
    from workbench.data import load_dataset
    from workbench.effects import ipw_survival_curve

    ds = load_dataset("synthetic", n_customers=n, seed=seed)

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ipw_survival_curve(
                ds,
                treatment_col="loyalty_programme",
                confounders=IPW_CONFOUNDERS,
                n_bootstrap=200,
                seed=seed,
            )

    return run, None


# ------------------------------------------------------------------------------------ worker
def build(case: str, tool: str, n: int, datadir: Path, seed: int):
    if case in ("cox_days", "cox_continuous"):
        duration = "tenure" if case == "cox_days" else "tenure_cont"
        fn = {
            "workbench": cox_workbench,
            "workbench fit_cox": cox_workbench_fit_cox,
            "workbench fit_cox + ph_test": lambda d, dur: cox_workbench_fit_cox(d, dur, True),
            "workbench (lifelines API)": cox_workbench_lifelines_api,
            "lifelines": cox_lifelines,
            "statsmodels": cox_statsmodels,
            "scikit-survival": cox_sksurv,
        }[tool]
        return fn(_load(datadir, n), duration)
    if case == "aggregate_km_logrank" and tool == "statsmodels":
        return km_statsmodels(_load(datadir, n))
    if case == "km_logrank":
        fn = {
            "workbench": km_workbench,
            "lifelines": km_lifelines,
            "statsmodels": km_statsmodels,
            "scikit-survival": km_sksurv,
        }[tool]
        return fn(_load(datadir, n))
    if case in ("logrank", "logrank_stratified"):
        strata = case == "logrank_stratified"
        if tool == "statsmodels":
            return logrank_statsmodels(_load(datadir, n), strata)
        if tool == "lifelines" and not strata:
            return logrank_lifelines(_load(datadir, n))
        return logrank_workbench(_load(datadir, n), strata)
    if case == "predict_survival":
        return {"workbench": predict_workbench, "lifelines": predict_lifelines}[tool](
            _load(datadir, n)
        )
    if case == "validate":
        return validate_workbench(datadir, n)
    if case == "ipw_bootstrap":
        return ipw_workbench(n, seed)
    from _cases_user import build as build_user

    return build_user(case, tool, lambda: _load(datadir, n), Path(datadir) / f"cox_{n}.parquet")


def run_worker(case: str, tool: str, n: int, datadir: Path, seed: int, repeats: int) -> dict:
    """Run one (case, tool, n) in this process: build (untimed), then time ``repeats`` runs."""
    warnings.simplefilter("ignore")
    if case == "simulate":
        return prepare(n, seed, datadir)
    run, check = build(case, tool, n, datadir, seed)
    times, cpus = [], []
    n_runs, i = repeats, 0
    while i < n_runs:
        c0, t0 = _cpu_with_children(), time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        cpus.append(_cpu_with_children() - c0)
        i += 1
        if i == 1 and times[0] > SLOW_SECONDS:
            break
        if i == 3 and repeats >= 3 and max(times) < FAST_SECONDS:
            n_runs = FAST_REPEATS  # fast cases: a steadier median on a shared machine
    out = {"times": times, "cpu": cpus, "peak_mb": peak_mb()}
    if case == "predict_survival":  # memory of the prediction alone, after the timed runs
        import tracemalloc

        tracemalloc.start()
        res = run()
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        shape = getattr(res, "shape", None)
        out["note"] = (
            f"the prediction itself allocates at most {traced:,.0f} MB (tracemalloc); "
            f"output {shape[0]:,} x {shape[1]} "
            if shape
            else ""
        )
        out["predict_traced_mb"] = traced
    if check is not None:
        out["check"] = [float(v) for v in np.asarray(check())]
    return out


if __name__ == "__main__":  # python _cases.py case tool n datadir seed repeats
    case, tool, n, datadir, seed, repeats = sys.argv[1:7]
    res = run_worker(case, tool, int(n), Path(datadir), int(seed), int(repeats))
    res["median_s"] = statistics.median(res["times"])
    sys.stdout.write("\n@@RESULT@@" + json.dumps(res) + "\n")
    sys.stdout.flush()
    os._exit(0)
