"""Cox under separation behaves like R: estimates, a SeparationWarning naming the user's covariate
and suggesting Firth, no exception and no numpy RuntimeWarning; a collinear design is its own error.

R for comparison (survival 3.x): ``coxph(Surv(T, E) ~ x)`` on these frames returns the estimates with
"Loglik converged before variable 1; coefficient may be infinite" or "Ran out of iterations and did
not converge".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from workbench.data import simulate
from workbench.exceptions import CollinearityError, SeparationWarning
from workbench.survival import cox_fit, fit_cox


def _fit_quietly_except_separation(fn, *args, **kwargs):
    """Run ``fn``; RuntimeWarnings are errors; return (result, separation messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        res = fn(*args, **kwargs)
    seps = [str(w.message) for w in caught if issubclass(w.category, SeparationWarning)]
    return res, seps


def test_leaked_tenure_derived_covariate_on_3000_customers():
    """A 'notice gap' that is 0 for churners and the tenure for active customers: every churner
    has the lowest value of its risk set, so the log hazard ratio runs to -infinity."""
    frame, _ = simulate(3_000, seed=7)
    frame["notice_gap"] = np.where(frame["churned"] == 1, 0.0, frame["tenure"])
    res, seps = _fit_quietly_except_separation(
        fit_cox,
        frame,
        duration_col="tenure",
        event_col="churned",
        covariates=["monthly_charge", "notice_gap"],
    )
    assert len(seps) == 1 and "'notice_gap'" in seps[0] and "firth=True" in seps[0]
    assert "x0" not in seps[0] and "x1" not in seps[0]
    s = res.summary.set_index("term")
    assert s.loc["notice_gap", "estimate"] < -1  # heading to -infinity (per month of gap)
    assert np.isinf(s.loc["notice_gap", "se"])
    assert np.isfinite(s.loc["monthly_charge", "estimate"]) and s.loc["monthly_charge", "se"] > 0
    assert res.meta["converged"] is False and res.meta["loglik"] <= 0
    assert any("notice_gap" in w for w in res.warnings)


@pytest.mark.parametrize(
    "x",
    [
        np.arange(-5, 4, dtype=float),  # lifelines' frames: x perfectly ordered with the time
        np.arange(1, 10, dtype=float),
        np.arange(0, 100, dtype=float) + 0.01 * np.random.default_rng(0).standard_normal(100),
    ],
    ids=["neg", "pos", "noisy100"],
)
def test_lifelines_separation_frames(x):
    t = np.arange(1, len(x) + 1, dtype=float)
    df = pd.DataFrame({"x": x, "T": t, "E": 1})
    fit, seps = _fit_quietly_except_separation(cox_fit, df[["x"]], df["T"], df["E"])
    assert fit.separated == ["x"] and len(seps) == 1 and "'x'" in seps[0]
    assert not fit.converged and fit.loglik <= 0  # never converged=True with loglik > 0
    assert fit.params[0] < -5 and fit.n_iter <= 50
    res, seps = _fit_quietly_except_separation(
        fit_cox, df, duration_col="T", event_col="E", covariates=["x"]
    )
    assert "Monotone likelihood for 'x'" in seps[0]


def test_lifelines_rossi_paro_equal_to_arrest():
    rossi = load_rossi()
    rossi["paro"] = rossi["arrest"]
    res, seps = _fit_quietly_except_separation(
        fit_cox, rossi, duration_col="week", event_col="arrest", covariates=["fin", "age", "paro"]
    )
    assert len(seps) == 1 and "'paro'" in seps[0]
    s = res.summary.set_index("term")
    assert s.loc["paro", "estimate"] > 5 and np.isfinite(s.loc["age", "se"])


def test_telco_satisfaction_as_categories(telco):
    """On Telco no customer with satisfaction 4 or 5 churned (and all with 1 or 2 did): the
    levels separate. R's reference level is the first in sorted order, 1."""
    frame = telco.frame.assign(sat=telco.frame[telco.spec.satisfaction].astype(str))
    res, seps = _fit_quietly_except_separation(
        fit_cox,
        frame,
        duration_col=telco.spec.tenure,
        event_col=telco.spec.event,
        covariates=["sat"],
    )
    assert res.meta["reference_levels"] == {"sat": "1"}
    named = {t for t in ("sat[4]", "sat[5]") if any(repr(t) in m for m in seps)}
    assert named == {"sat[4]", "sat[5]"}
    assert all("firth=True" in m for m in seps)


def test_collinear_design_is_its_own_error_naming_the_columns():
    frame, _ = simulate(1_000, seed=3)
    X = pd.DataFrame(
        {
            "a": frame["monthly_charge"],
            "b": frame["age"],
            "c": frame["monthly_charge"] - frame["age"],
        }
    )
    with pytest.raises(CollinearityError, match=r"collinear \('[abc]' = combination of \[") as err:
        cox_fit(X, frame["tenure"], frame["churned"])
    assert all(f"'{c}'" in str(err.value) for c in "abc")  # the set a - b = c, in any pivot order
