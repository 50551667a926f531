"""The hashed paths of the survival kernels equal the sorted ones they replaced.

``distinct_sorted`` stands in for ``np.unique(..., return_inverse=True)``; ``logrank_parts`` finds
its (stratum, time) blocks by hashing; ``group_rows`` splits a prepared frame without a pandas
groupby. Each is checked against the plain construction on tied, continuous and stratified data
(R's agreement is pinned by ``test_survival_reference.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.survival._frame import group_rows, prepare_survival_frame
from workbench.survival.kernels import distinct_sorted, km_estimate, logrank_parts


@pytest.mark.parametrize(
    "kind",
    [
        "days",
        "continuous",
        "signed_zero",
        "empty",
        "one",
        "codes",  # every value of the range occurs: counted, offsets are the codes
        "int_codes",
        "negative_whole",
        "wide_whole",  # whole numbers over a range far wider than n: hashed
        "uint8",
    ],
)
def test_distinct_sorted_equals_np_unique(kind):
    rng = np.random.default_rng(11)
    x = {
        "codes": rng.integers(0, 4, 20_000).astype(float),
        "int_codes": rng.integers(0, 6, 20_000),
        "negative_whole": np.floor(rng.normal(0, 50, 20_000)),
        "wide_whole": np.floor(rng.exponential(1e9, 2_000)),
        "uint8": rng.integers(0, 200, 5_000).astype(np.uint8),
        "days": np.floor(rng.exponential(300, 20_000)),
        "continuous": rng.exponential(300, 20_000),
        "signed_zero": np.array([0.0, -0.0, 2.0, 0.0, 1.5, -0.0]),
        "empty": np.array([], dtype=float),
        "one": np.array([4.0]),
    }[kind]
    u, inv = distinct_sorted(x)
    u_ref, inv_ref = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(u, u_ref)
    np.testing.assert_array_equal(inv, inv_ref.ravel())
    np.testing.assert_array_equal(u[inv], x)
    assert u.dtype == x.dtype
    if kind == "int_codes":  # the codes are a new array, never the input itself
        inv[:] = -1
        assert x.min() == 0


def _logrank_by_hand(t, e, g, k):
    """Observed, expected and covariance from the textbook definition, one event time at a time."""
    obs, exp_, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for time in np.unique(t[e == 1]):
        at = t >= time
        n = np.array([(at & (g == j)).sum() for j in range(k)], dtype=float)
        d = np.array([((t == time) & (e == 1) & (g == j)).sum() for j in range(k)], dtype=float)
        nn, dd = n.sum(), d.sum()
        p = n / nn
        obs += d
        exp_ += dd * p
        if nn > 1:
            var += dd * (nn - dd) / (nn - 1) * (np.diag(p) - np.outer(p, p))
    return obs, exp_, var


@pytest.mark.parametrize(
    ("ties", "strata", "unit_weights"),
    [
        (True, [7, -2, 40], False),  # few cells: tallied on the (stratum, time, group) grid
        (True, [7, -2, 40], True),  # weighted: cells counted on the grid, then tallied
        (False, [7, -2, 40], False),
        (False, list(range(0, 60, 3)), False),  # 20 strata x ~1,500 times: the hashed path
    ],
)
def test_logrank_parts_stratified_is_the_sum_over_strata(ties, strata, unit_weights):
    rng = np.random.default_rng(5)
    n = 1_500
    t = rng.exponential(20, n)
    if ties:
        t = np.floor(t)
    e = (rng.random(n) < 0.6).astype(float)
    g = rng.integers(0, 3, n)
    s = rng.choice(strata, n)  # any integers, not 0..S-1
    w = np.ones(n) if unit_weights else None
    o, ex, v, sizes = logrank_parts(t, e, g, 3, stratum=s, weights=w)
    ref = [np.zeros(3), np.zeros(3), np.zeros((3, 3))]
    for sv in np.unique(s):
        m = s == sv
        for acc, part in zip(ref, _logrank_by_hand(t[m], e[m], g[m], 3), strict=True):
            acc += part
    np.testing.assert_allclose(o, ref[0], rtol=1e-12)
    np.testing.assert_allclose(ex, ref[1], rtol=1e-12)
    np.testing.assert_allclose(v, ref[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(sizes, np.bincount(g, minlength=3))
    # unstratified: the same kernel equals the hand computation on all rows
    o1, e1, v1, _ = logrank_parts(t, e, g, 3)
    r1 = _logrank_by_hand(t, e, g, 3)
    np.testing.assert_allclose(o1, r1[0], rtol=1e-12)
    np.testing.assert_allclose(e1, r1[1], rtol=1e-12)
    np.testing.assert_allclose(v1, r1[2], rtol=1e-10, atol=1e-12)


def test_km_estimate_counts_equal_a_direct_count():
    rng = np.random.default_rng(3)
    t = np.floor(rng.exponential(10, 3_000))
    e = (rng.random(3_000) < 0.5).astype(float)
    r = km_estimate(t, e)
    for i in (0, 5, len(r["time"]) - 1):
        tm = r["time"][i]
        assert r["at_risk"][i] == (t >= tm).sum()
        assert r["events"][i] == ((t == tm) & (e == 1)).sum()


def test_group_rows_equals_groupby():
    df = pd.DataFrame(
        {
            "t": np.arange(1, 13, dtype=float),
            "e": [1, 0] * 6,
            "g": pd.Categorical(list("bcabcabcaccc"), categories=["c", "a", "b", "z"]),
        }
    )
    prep, _, _ = prepare_survival_frame(df, duration_col="t", event_col="e", group_col="g")
    got = [(g, rows.tolist()) for g, rows in group_rows(prep)]
    want = [
        (g, [prep.index.get_loc(i) for i in sub.index])
        for g, sub in prep.groupby("group", observed=True, sort=True)
    ]
    assert got == want
    assert [g for g, _ in got] == ["c", "a", "b"]  # category order; the empty level 'z' left out


def test_level_codes_keep_levels_apart():
    from workbench.survival.kernels import level_codes

    for values in (
        pd.Series([3.0, 0.0, 3.0, 65535.0]),
        pd.Series([1.5, -2.0, 1.5]),  # not whole numbers / negative: factorised
        pd.Series(["b", "a", "b"]),
        pd.Series(pd.Categorical(["y", "x", "y"], categories=["y", "x"])),
        pd.Series([70_000, 1, 70_000]),  # too large for the direct path
    ):
        codes = level_codes(values)
        assert codes.dtype == np.int64 and (codes >= 0).all()
        # equal values <-> equal codes
        same = values.to_numpy()[:, None] == values.to_numpy()[None, :]
        np.testing.assert_array_equal(codes[:, None] == codes[None, :], same)


def test_stratified_logrank_with_many_wide_strata_columns_equals_one_combined_column():
    from workbench.survival import logrank_test

    rng = np.random.default_rng(9)
    n = 2_000
    df = pd.DataFrame(
        {
            "t": np.floor(rng.exponential(20, n)) + 1,
            "e": (rng.random(n) < 0.6).astype(int),
            "g": rng.integers(0, 2, n),
            # four strata columns of large whole numbers: their combined key would overflow int64
            **{f"s{j}": rng.choice([0, 65_000], n) for j in range(4)},
        }
    )
    df["combined"] = df[["s0", "s1", "s2", "s3"]].astype(str).agg("|".join, axis=1)
    a = logrank_test(
        df, duration_col="t", event_col="e", group_col="g", strata=["s0", "s1", "s2", "s3"]
    )
    b = logrank_test(df, duration_col="t", event_col="e", group_col="g", strata="combined")
    assert a.meta["n_strata"] == b.meta["n_strata"] == 16
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12)
