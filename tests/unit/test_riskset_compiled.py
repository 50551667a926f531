"""The compiled (numba) risk-set sums of the Cox engine against its numpy path and against R.

The engine switches to the compiled kernels at ``NUMBA_MIN_ROWS`` rows; here the threshold is
lowered so that small problems (and the R reference cases) run through them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_cox_reference import CASES, COEF, ZPH, _fit, frames  # noqa: F401 (fixture)

from workbench.survival import _riskset, _riskset_compiled
from workbench.survival._riskset import _Problem
from workbench.survival.engine import cox_fit


def _problem(
    seed, n=3_000, p=4, *, ties="efron", weights=False, strata=False, empty=False, freq=False
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X -= X.mean(axis=0)
    t = rng.integers(1, 60, n).astype(float)  # many ties
    e = (rng.random(n) < 0.4).astype(float)
    w = rng.random(n) + 0.5 if weights else None
    if freq:  # frequency weights: whole numbers of identical rows (Efron over the d events)
        w = rng.integers(1, 4, n).astype(float)
    s = rng.integers(0, 3, n) if strata else None
    if empty:  # one stratum without a single event
        e[s == 2] = 0.0
    return _Problem(X, t, e, w, s, ties, frequency=freq), rng.normal(size=p) * 0.3


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize(
    "kw",
    [{}, {"weights": True}, {"strata": True}, {"weights": True, "strata": True, "empty": True}],
)
def test_compiled_equals_numpy(ties, kw):
    """loglik, score, information, row coefficients and every per-stratum part to 1e-12."""
    prob, beta = _problem(3, ties=ties, **kw)
    prob.compiled = True
    a = prob.evaluate(beta, keep=True)
    prob.compiled = False
    b = prob.evaluate(beta, keep=True)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
    np.testing.assert_allclose(a.score, b.score, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(a.info, b.info, rtol=1e-12)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    assert len(a.parts) == len(b.parts)
    for pa, pb in zip(a.parts, b.parts):
        assert (pa is None) == (pb is None)
        for u, v in zip(pa or (), pb or ()):
            if v is None:
                assert u is None
            else:
                np.testing.assert_allclose(u, v, rtol=1e-12)
    # cox.zph's time-weighted information sums agree
    gw = [np.linspace(-1, 1, len(s.ev_end)) for s in prob.strata]
    wi_numpy = prob.weighted_information(beta, b, gw)
    prob.compiled = True
    np.testing.assert_allclose(prob.weighted_information(beta, a, gw), wi_numpy, rtol=1e-11)
    # the first-derivative-only evaluation (the null log-likelihood) agrees too
    assert prob.evaluate(beta, second=False).loglik == pytest.approx(b.loglik, rel=1e-12)


def compiled_rowsum(values, groups, n_groups):
    return _riskset_compiled.compiled()[3](values, groups, n_groups)


def test_kernels_are_correct_uncompiled():
    """The kernels are plain Python: run uncompiled, they give the compiled answer."""
    prob, beta = _problem(5, n=300, p=3, strata=True)
    prob.compiled = True
    a = prob.evaluate(beta, keep=True)
    plain = (_riskset_compiled._block_sums, _riskset_compiled._steps)
    plain += (_riskset_compiled._weighted_outer, _riskset_compiled._rowsum)
    saved = _riskset_compiled._KERNELS[:]
    try:
        _riskset_compiled._KERNELS[:] = [plain]
        b = prob.evaluate(beta, keep=True)
    finally:
        _riskset_compiled._KERNELS[:] = saved
        groups = np.random.default_rng(1).integers(0, 5, 40)
        vals = np.random.default_rng(2).normal(size=(40, 3))
        by_python = _riskset_compiled._rowsum(vals, groups, 6)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-13)
    np.testing.assert_allclose(a.info, b.info, rtol=1e-13)
    expected = np.array([vals[groups == g].sum(axis=0) for g in range(6)])
    np.testing.assert_allclose(by_python, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(compiled_rowsum(vals, groups, 6), expected, rtol=1e-13, atol=1e-15)


def test_engine_switches_at_threshold(monkeypatch):
    """Large problems use the kernels, small ones numpy; the fits agree to 1e-10."""
    rng = np.random.default_rng(11)
    n = 2_000
    X = rng.normal(size=(n, 3))
    t = rng.exponential(np.exp(-X @ [0.5, -0.3, 0.0]))
    e = (rng.random(n) < 0.7).astype(int)
    ref = cox_fit(X, t, e, robust=True)
    monkeypatch.setattr(_riskset, "NUMBA_MIN_ROWS", 0)
    fit = cox_fit(X, t, e, robust=True)
    np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.se, ref.se, rtol=1e-10)
    assert fit.loglik == pytest.approx(ref.loglik, rel=1e-12)


@pytest.mark.r_reference
@pytest.mark.parametrize("case", list(CASES))
def test_r_reference_through_compiled_kernels(frames, case, monkeypatch):  # noqa: F811
    """Every R reference case of ``test_cox_reference`` (coefficients, SEs, loglik, cox.zph)
    through the compiled kernels."""
    monkeypatch.setattr(_riskset, "NUMBA_MIN_ROWS", 0)
    res = _fit(frames, case)
    assert res._state["fit"]._internals[0].compiled
    ref = COEF[COEF["case"] == case]
    np.testing.assert_allclose(res.summary["estimate"], ref["estimate"], rtol=1e-6)
    np.testing.assert_allclose(res.summary["se"], ref["se"], rtol=1e-6)
    assert res.meta["loglik"] == pytest.approx(ref["loglik"].iloc[0], rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph = res.ph_test()
    zref = ZPH[ZPH["case"] == case]
    np.testing.assert_allclose(ph.summary["statistic"], zref["chisq"], rtol=1e-6)


# ------------------------------------------------------------------ sort order and concordance
@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("strata", [False, True])
def test_risk_order_is_lexsort(whole, strata):
    """Stratum, then tenure descending, ties in row order: numpy's lexsort, exactly (the 16-bit
    radix path for whole-number tenures and the float path)."""
    rng = np.random.default_rng(2)
    t = rng.integers(0, 400, 5_000).astype(float)
    if not whole:
        t = t + rng.random(5_000).round(1)  # ties remain
    s = rng.integers(0, 7, 5_000) if strata else None
    expected = np.lexsort((-t, s)) if strata else np.lexsort((-t,))
    np.testing.assert_array_equal(_riskset.risk_order(t, s), expected)


def _harrell_brute(t, e, lp, s, w):
    """Harrell's C by looping over all pairs (R concordance's conventions, see _concordance)."""
    conc = pairs = 0.0
    for i in np.flatnonzero(e):
        other = (s == s[i]) & ((t > t[i]) | ((t == t[i]) & (e == 0)))
        ww = w[i] * w[other]
        conc += ww @ ((lp[other] < lp[i]) + 0.5 * (lp[other] == lp[i]))
        pairs += ww.sum()
    return conc / pairs


def test_concordance_paths_agree_with_pairs(monkeypatch):
    """The compiled Fenwick sweep, the numpy wavelet path and the presorted call all give the
    pairwise count (ties in tenure and in the score, strata, weights)."""
    from workbench.survival import concordance as cmod

    rng = np.random.default_rng(8)
    n = 600
    t = rng.integers(1, 40, n).astype(float)
    e = (rng.random(n) < 0.5).astype(int)
    lp = rng.integers(0, 15, n) / 3.0  # tied scores
    s = rng.integers(0, 3, n)
    w = rng.random(n) + 0.5
    brute = _harrell_brute(t, e, lp, s, w)
    monkeypatch.setattr(cmod, "NUMBA_MIN_ROWS", 10**9)
    assert cmod._concordance(t, e, lp, s, w) == pytest.approx(brute, rel=1e-12)
    monkeypatch.setattr(cmod, "NUMBA_MIN_ROWS", 0)
    assert cmod._concordance(t, e, lp, s, w) == pytest.approx(brute, rel=1e-12)
    o = _riskset.risk_order(t, s)
    assert cmod._concordance(t[o], e[o], lp[o], s[o], w[o], True) == pytest.approx(brute, rel=1e-12)


def test_fit_cox_concordance_on_first_access(synthetic):
    """meta['concordance'] is filled when meta is first read, equal to Harrell's C of the linear
    predictor computed from scratch; concordance_ reads the same value."""
    from workbench.survival import fit_cox
    from workbench.survival.concordance import _concordance

    frame = synthetic.frame.iloc[:3_000]
    res = fit_cox(frame, duration_col="tenure", event_col="churned", covariates=["monthly_charge"])
    from workbench.results import Deferred

    assert isinstance(res._meta["concordance"], Deferred)  # not computed by the fit itself
    assert isinstance(res._meta["fingerprint"], Deferred)  # a DataFrame's hash: on first read too
    lp = frame["monthly_charge"].to_numpy() * res.params_.iloc[0]
    w = np.ones(len(frame))
    direct = _concordance(frame["tenure"].to_numpy(), frame["churned"].to_numpy(), lp, None, w)
    assert res.meta["concordance"] == pytest.approx(direct, rel=1e-12)
    assert res.concordance_ == res.meta["concordance"]
    assert res.to_record()["meta"]["concordance"] == pytest.approx(direct, rel=1e-12)
    assert len(res.meta["fingerprint"]) == 16


@pytest.mark.parametrize("descending", [True, False])
def test_distinct_sorted_equals_unique(descending):
    """The shared distinct-values kernel (with its path for presorted tenures) is np.unique."""
    from workbench.survival.kernels import distinct_sorted

    t = np.random.default_rng(4).integers(0, 50, 2_000) / 4.0
    t[:3] = [0.0, -0.0, 0.0]
    if descending:
        t = np.sort(t)[::-1]
    u, inv = distinct_sorted(t)
    eu, einv = np.unique(t, return_inverse=True)
    np.testing.assert_array_equal(u, eu)
    np.testing.assert_array_equal(inv, einv)


def test_term_constant_within_strata_is_dropped_and_named():
    """A covariate that varies only between strata has no hazard ratio in a stratified model: it is
    dropped with a CollinearityWarning naming it (as R's NA), the others are estimated."""
    import pandas as pd

    from workbench.exceptions import CollinearityWarning
    from workbench.survival import fit_cox

    rng = np.random.default_rng(21)
    n = 1_500
    frame = pd.DataFrame({"region": rng.integers(0, 3, n), "x": rng.normal(size=n)})
    frame["region_level"] = frame["region"] * 2.0  # constant within each region
    frame["tenure"] = rng.exponential(np.exp(-0.5 * frame["x"]))
    frame["churned"] = (rng.random(n) < 0.8).astype(int)
    with pytest.warns(CollinearityWarning, match="region_level.*constant within every stratum"):
        res = fit_cox(
            frame,
            duration_col="tenure",
            event_col="churned",
            covariates=["x", "region_level"],
            strata="region",
        )
    assert list(res.summary["term"]) == ["x"]
    assert res.meta["dropped_terms"][0]["term"] == "region_level"
