"""Notebook 03's analyses on the stranger data sets (issue 12): satisfaction is unrelated to churn, so
H1 must not be supported in any outcome view, with or without the Firth penalty; the product count
whose top level all churned is named; the yearly tenure grid gives discrete-time bands that all hold
churn events (the fit does not diverge into a silent switch to Firth).

The notebook runs themselves (only dataset / data_path / spec_path) are in ``test_03_notebook_stranger.py``.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import workbench.drivers as drv
from workbench.drivers.fitting import Prepared
from workbench.exceptions import SeparationWarning

COLUMNS = dict(
    duration_col="years_with_us",
    event_col="left",
    satisfaction_col="csat",
    switching_cost_cols=["plan", "products"],
    covariates=["age", "region", "usage"],
    satisfaction_scale=(1, 5),
)


def _dd(sd):
    f = sd.frame.assign(
        plan=sd.frame["plan"].astype(
            pd.CategoricalDtype(sd.spec["categorical"]["plan"], ordered=True)
        )
    )
    return drv.resolve_inputs(f, **COLUMNS)


@pytest.mark.parametrize("outcome", ["cox", "discrete", "horizon"])
@pytest.mark.parametrize("firth", ["auto", True])
def test_h1_not_supported_when_satisfaction_is_unrelated(stranger, outcome, firth):
    dd = _dd(stranger)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = drv.evaluate_hypotheses(dd, outcome=outcome, horizon=1, firth=firth)
    h1 = res.summary.set_index("hypothesis").loc["H1"]
    assert h1["decision"] == "not supported", h1.to_dict()
    assert h1["ci_lower"] < 0 < h1["ci_upper"] and h1["p_adjusted"] > 0.05
    assert res.meta["firth"] is (firth is True)  # no silent switch: nothing here diverges
    if firth is True:  # the IPCW horizon view has robust SEs: a robust Wald test, not an LR test
        test = "robust Wald" if outcome == "horizon" else "penalised LR"
        assert "Firth-penalised" in h1["method"] and test in h1["method"]
    named = [str(w.message) for w in caught if issubclass(w.category, SeparationWarning)]
    assert any("'products'" in m and "all churned" in m for m in named), named


def test_discrete_bands_follow_the_yearly_grid(stranger):
    dd = _dd(stranger)
    prep = Prepared(dd, "discrete")
    years = sorted(stranger.frame["years_with_us"].unique())
    # one band per year of tenure (period k = completed years + 1), every band with churn events
    assert list(prep.base.columns) == [f"period[{int(y) + 1}]" for y in years[1:]]
    B = prep.base.to_numpy()
    band = B.argmax(axis=1) + B.any(axis=1)  # 0 = the reference band (first year)
    events = pd.Series(prep.y * prep.w).groupby(band).sum()
    assert len(events) == len(years) and (events > 0).all()


def test_separation_check_names_the_product_count_in_every_view(stranger):
    dd = _dd(stranger)
    sep = drv.check_separation(dd, horizon=1, horizons=[1, 2]).summary
    prod = sep[sep["variable"] == "products"]
    views = {
        m.split(" ")[0] + (" " + m.split(" ")[2] if m.startswith("churn") else "")
        for m in prod["model"]
    }
    assert views == {"Cox", "discrete-time", "churn 1", "churn 2"}, views
    assert prod["levels"].str.contains(f"top value {stranger.top_products}").all()
    assert prod["levels"].str.contains("all churned").all()
