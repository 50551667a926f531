"""Benchmark cases for the estimators beyond Cox and Kaplan-Meier, on the user's path.

Each ``<case>_<tool>`` function gets the case data (loaded before timing) and returns ``(run,
check)`` as in :mod:`_cases`: ``run()`` does the timed work once, ``check()`` returns a few numbers
the report compares across tools (a coefficient vector, a concordance, RMSTs, CIF values). The R
versions of the same cases are in ``benchmarks/r_worker.R``.

Cases (same simulated customers as the Cox cases; tenure in days):

* ``cox_stratified``: Cox with the 10 covariates stratified by region x segment (12 strata);
* ``concordance``: Harrell's C of a fixed risk score (the one ``fit_cox`` reports);
* ``rmst``: restricted mean tenure up to 720 days by the 4 regions, with its standard error;
* ``cif``: cumulative incidence of the 5 churn causes (Aalen-Johansen, cmprsk ``cuminc``);
* ``finegray``: Fine-Gray model of the first cause on 4 covariates (cmprsk ``crr``);
* ``logit``: the drivers' logistic model (churned on the 10 covariates and an intercept);
* ``ipw_curve``: IPW-adjusted survival curves of loyalty members vs the rest (linear propensity
  model) with 20 bootstrap replicates (R: logistic propensity model, weighted ``survfit``, the
  same 20 refits on resampled customers);
* ``aggregate_km_logrank``, ``aggregate_cox``, ``aggregate_cif``: :mod:`workbench.aggregate`
  from the Parquet file (DuckDB cell counts, then Kaplan-Meier by region + the log-rank test / a
  Breslow Cox model of contract and segment codes / the cumulative incidence of the causes),
  beside the row-level functions on the same rows and the peers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVARIATES = [
    "sat_1", "sat_2", "sat_4", "sat_5", "contract_one_year", "contract_two_year",
    "n_products_c", "charge_10", "perceived_value_c", "age_10",
]  # fmt: skip
FG_COVARIATES = ["sat_1", "contract_one_year", "contract_two_year", "charge_10"]
STRATA = ["group", "stratum_b"]  # region x segment (12 strata; neither is a covariate)
RMST_TAU = 720.0  # days
CIF_TIMES = np.array([180.0, 365.0, 730.0])
#: a fixed risk score for the concordance case (any score will do; these are about the truth)
LP_BETA = np.array([0.6, 0.3, -0.2, -0.4, -0.7, -1.0, -0.15, 0.2, -0.3, -0.05])
IPW_CONFOUNDERS = ["contract", "monthly_charge", "age", "n_complaints", "satisfaction"]
IPW_BOOTSTRAP = 20  # replicates in ipw_curve (R: the same number of refits)


def extra_columns(frame: pd.DataFrame, X: pd.DataFrame) -> pd.DataFrame:
    """Columns the cases below need, computed once when the benchmark data are written."""
    cause = frame["churn_type"].where(frame["churned"].astype(bool))
    levels = sorted(cause.dropna().unique())
    code = cause.map({c: i + 1 for i, c in enumerate(levels)}).fillna(0).astype(float)
    return pd.DataFrame(
        {
            "cause": code.to_numpy(),  # 0 censored, 1.. the churn causes in sorted order
            "lp": X[COVARIATES].to_numpy(dtype=float) @ LP_BETA,
            "treat": (frame["loyalty_programme"] == "member").astype(float).to_numpy(),
            "contract_code": pd.factorize(frame["contract"], sort=True)[0].astype(float),
            "monthly_charge": frame["monthly_charge"].astype(float).to_numpy(),
            "age": frame["age"].astype(float).to_numpy(),
            "n_complaints": frame["n_complaints"].astype(float).to_numpy(),
            "satisfaction": frame["satisfaction"].astype(float).to_numpy(),
        }
    )


# ------------------------------------------------------------------------------ stratified Cox
def cox_stratified_workbench(df):
    from workbench.survival.engine import cox_fit

    X = df[COVARIATES].to_numpy(dtype=float)
    t, e = df["tenure"].to_numpy(), df["churned"].to_numpy()
    strata = (df["group"] * 10 + df["stratum_b"]).to_numpy()
    out = {}

    def run():
        out["fit"] = cox_fit(X, t, e, strata=strata, ties="efron")

    return run, lambda: out["fit"].params


def cox_stratified_fit_cox(df, ph_test=False):
    from workbench.survival import fit_cox

    d = df[COVARIATES + STRATA + ["tenure", "churned"]]
    out = {}

    def run():
        out["fit"] = fit_cox(
            d, duration_col="tenure", event_col="churned", covariates=COVARIATES, strata=STRATA
        )
        if ph_test:  # notebook 02's path, as _cases.cox_workbench_fit_cox (reads concordance)
            out["fit"].ph_test().to_record()
            out["fit"].to_record()

    return run, lambda: out["fit"].params_.to_numpy()


def cox_stratified_lifelines(df):
    from lifelines import CoxPHFitter

    d = df[COVARIATES + STRATA + ["tenure", "churned"]]
    out = {}

    def run():
        out["fit"] = CoxPHFitter().fit(d, "tenure", "churned", strata=STRATA)

    return run, lambda: out["fit"].params_.to_numpy()


# ------------------------------------------------------------------------------ concordance
def concordance_workbench(df):
    from workbench.survival.concordance import _concordance  # what fit_cox calls

    t, e, lp = df["tenure"].to_numpy(), df["churned"].to_numpy(), df["lp"].to_numpy()
    w = np.ones(len(t))
    out = {}

    def run():
        out["c"] = _concordance(t, e, lp, None, w)

    return run, lambda: [out["c"]]


def concordance_lifelines(df):
    from lifelines.utils import concordance_index

    t, e, lp = df["tenure"].to_numpy(), df["churned"].to_numpy(), df["lp"].to_numpy()
    out = {}

    def run():
        out["c"] = concordance_index(t, -lp, e)  # lifelines scores survival: higher = longer

    return run, lambda: [out["c"]]


def concordance_sksurv(df):
    from sksurv.metrics import concordance_index_censored

    t, e, lp = df["tenure"].to_numpy(), df["churned"].astype(bool).to_numpy(), df["lp"].to_numpy()
    out = {}

    def run():
        out["c"] = concordance_index_censored(e, t, lp)[0]

    return run, lambda: [out["c"]]


# ------------------------------------------------------------------------------------- RMST
def rmst_workbench(df):
    from workbench.survival import rmst

    d = df[["tenure", "churned", "group"]]
    out = {}

    def run():
        out["r"] = rmst(
            d, duration_col="tenure", event_col="churned", group_col="group", tau=RMST_TAU
        )

    return run, lambda: out["r"].summary["estimate"].to_numpy()


def rmst_lifelines(df):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    out = {}

    def run():
        res = []
        for _, g in df.groupby("group"):
            km = KaplanMeierFitter().fit(g["tenure"], g["churned"])
            res.append(restricted_mean_survival_time(km, t=RMST_TAU, return_variance=True)[0])
        out["r"] = res

    return run, lambda: out["r"]


# ------------------------------------------------------------------------ competing risks
def _causes(df):
    d = df[["tenure", "churned", "cause"] + FG_COVARIATES].copy()
    d["cause"] = d["cause"].where(d["churned"] > 0)  # censored customers have no cause
    return d


def cif_workbench(df):
    from workbench.survival import cumulative_incidence

    d = _causes(df)
    out = {}

    def run():
        out["r"] = cumulative_incidence(
            d, duration_col="tenure", event_col="churned", cause_col="cause", times=CIF_TIMES
        )

    def check():
        s = out["r"].summary
        s = s[s["cause"].astype(str).isin(["1", "1.0"])]
        return s["estimate"].to_numpy()

    return run, check


def cif_lifelines(df):
    from lifelines import AalenJohansenFitter

    t, c = df["tenure"].to_numpy(), df["cause"].astype(int).to_numpy()
    out = {}

    def run():
        fits = [
            AalenJohansenFitter(calculate_variance=True).fit(t, c, event_of_interest=k)
            for k in range(1, 6)
        ]
        out["f"] = fits[0]

    def check():
        cif = out["f"].cumulative_density_.iloc[:, 0]
        return [float(cif[cif.index <= h].iloc[-1]) for h in CIF_TIMES]

    return run, check


def finegray_workbench(df):
    from workbench.survival import fine_gray

    d = _causes(df)
    out = {}

    def run():
        out["r"] = fine_gray(
            d,
            duration_col="tenure",
            event_col="churned",
            cause_col="cause",
            cause=1.0,
            covariates=FG_COVARIATES,
        )

    return run, lambda: out["r"].summary["estimate"].to_numpy()


# ------------------------------------------------------------------------ drivers' logistic
def _logit_arrays(df):
    X = np.column_stack([np.ones(len(df)), df[COVARIATES].to_numpy(dtype=float)])
    return X, df["churned"].to_numpy(dtype=float)


def logit_workbench(df):
    from workbench.drivers.models import fit_logistic  # the drivers' outcome model

    X, y = _logit_arrays(df)
    out = {}

    def run():
        out["fit"] = fit_logistic(X, y, names=["const", *COVARIATES])

    return run, lambda: out["fit"].params_


def logit_statsmodels(df, glm=False):
    import statsmodels.api as sm

    X, y = _logit_arrays(df)
    out = {}

    def run():
        if glm:
            out["fit"] = sm.GLM(y, X, family=sm.families.Binomial()).fit()
        else:
            out["fit"] = sm.Logit(y, X).fit(disp=0)

    return run, lambda: np.asarray(out["fit"].params)


# ------------------------------------------------------------------------------- IPW curves
def ipw_curve_workbench(df):
    from workbench.effects import ipw_survival_curve

    d = df[["tenure", "churned", "treat", "monthly_charge", "age", "n_complaints", "satisfaction"]]
    d = d.assign(contract=df["contract_code"].map({0.0: "a", 1.0: "b", 2.0: "c"}))
    out = {}

    def run():
        out["r"] = ipw_survival_curve(
            d,
            treatment_col="treat",
            confounders=IPW_CONFOUNDERS,
            duration_col="tenure",
            event_col="churned",
            control_arm=0.0,
            specification="linear",
            max_time=RMST_TAU,
            n_bootstrap=IPW_BOOTSTRAP,
            seed=1,
        )

    return run, None


# ------------------------------------------------------------------------------- aggregates
def aggregate_km_logrank_workbench(path):
    from workbench import aggregate as A

    out = {}

    def run():
        cells = A.counts(str(path), duration_col="tenure", event_col="churned", by=["group"])
        A.kaplan_meier(cells, group_col="group")
        out["lr"] = A.logrank_test(cells, group_col="group")

    return run, lambda: [out["lr"].statistic]


def aggregate_km_logrank_rows(df):
    from workbench.survival import kaplan_meier, logrank_test

    d = df[["tenure", "churned", "group"]]
    out = {}

    def run():
        kaplan_meier(d, duration_col="tenure", event_col="churned", group_col="group")
        out["lr"] = logrank_test(d, duration_col="tenure", event_col="churned", group_col="group")

    return run, lambda: [out["lr"].statistic]


def aggregate_cox_workbench(path):
    from workbench import aggregate as A

    out = {}

    def run():
        cells = A.counts(
            str(path), duration_col="tenure", event_col="churned", by=["stratum_a", "stratum_b"]
        )
        out["fit"] = A.fit_cox(cells, covariates=["stratum_a", "stratum_b"])

    return run, lambda: out["fit"].summary["estimate"].to_numpy()


def aggregate_cox_rows(df):
    from workbench.survival import fit_cox

    d = df[["tenure", "churned", "stratum_a", "stratum_b"]]
    out = {}

    def run():
        out["fit"] = fit_cox(
            d,
            duration_col="tenure",
            event_col="churned",
            covariates=["stratum_a", "stratum_b"],
            ties="breslow",
        )

    return run, lambda: out["fit"].summary["estimate"].to_numpy()


def aggregate_cif_workbench(path):
    from workbench import aggregate as A

    out = {}

    def run():
        cells = A.counts(str(path), duration_col="tenure", event_col="churned", cause_col="cause")
        out["r"] = A.cumulative_incidence(cells, times=CIF_TIMES)

    def check():
        s = out["r"].summary
        return s[s["cause"].astype(str).isin(["1", "1.0"])]["estimate"].to_numpy()

    return run, check


# ------------------------------------------------------------------------------- dispatch
def build(case: str, tool: str, df_loader, path):
    """``(run, check)`` for ``case`` and ``tool``; ``df_loader()`` reads the case frame."""
    table = {
        ("cox_stratified", "workbench"): lambda: cox_stratified_workbench(df_loader()),
        ("cox_stratified", "workbench fit_cox"): lambda: cox_stratified_fit_cox(df_loader()),
        ("cox_stratified", "workbench fit_cox + ph_test"): lambda: cox_stratified_fit_cox(
            df_loader(), ph_test=True
        ),
        ("cox_stratified", "lifelines"): lambda: cox_stratified_lifelines(df_loader()),
        ("concordance", "workbench"): lambda: concordance_workbench(df_loader()),
        ("concordance", "lifelines"): lambda: concordance_lifelines(df_loader()),
        ("concordance", "scikit-survival"): lambda: concordance_sksurv(df_loader()),
        ("rmst", "workbench"): lambda: rmst_workbench(df_loader()),
        ("rmst", "lifelines"): lambda: rmst_lifelines(df_loader()),
        ("cif", "workbench"): lambda: cif_workbench(df_loader()),
        ("cif", "lifelines"): lambda: cif_lifelines(df_loader()),
        ("finegray", "workbench"): lambda: finegray_workbench(df_loader()),
        ("logit", "workbench"): lambda: logit_workbench(df_loader()),
        ("logit", "statsmodels"): lambda: logit_statsmodels(df_loader()),
        ("logit", "statsmodels GLM"): lambda: logit_statsmodels(df_loader(), glm=True),
        ("ipw_curve", "workbench"): lambda: ipw_curve_workbench(df_loader()),
        ("aggregate_km_logrank", "workbench"): lambda: aggregate_km_logrank_workbench(path),
        ("aggregate_km_logrank", "row-level workbench"): lambda: aggregate_km_logrank_rows(
            df_loader()
        ),
        ("aggregate_cif", "workbench"): lambda: aggregate_cif_workbench(path),
        ("aggregate_cif", "row-level workbench"): lambda: cif_workbench(df_loader()),
        ("aggregate_cox", "workbench"): lambda: aggregate_cox_workbench(path),
        ("aggregate_cox", "row-level workbench"): lambda: aggregate_cox_rows(df_loader()),
    }
    fn = table.get((case, tool))
    if fn is None:
        raise SystemExit(f"unknown case/tool {case}/{tool}")
    return fn()


#: the peers of each case above (beside the workbench tools), for the plan in run.py
#: (cox_stratified is planned with the other Cox cases)
PEERS = {
    "concordance": ["lifelines", "scikit-survival", "R survival"],
    "rmst": ["lifelines", "R survival"],
    "cif": ["lifelines", "R cmprsk"],
    "finegray": ["R cmprsk"],
    "logit": ["statsmodels", "statsmodels GLM", "R glm"],
    "ipw_curve": ["R survival"],
    "aggregate_km_logrank": ["row-level workbench", "statsmodels", "R survival"],
    "aggregate_cif": ["row-level workbench", "R cmprsk"],
    "aggregate_cox": ["row-level workbench", "R survival"],
}
