"""Grouping guards in the survival functions: personal columns and O(k^2) pairwise work refused."""

import numpy as np
import pandas as pd
import pytest

from workbench.data import load_dataset
from workbench.exceptions import ParameterError, TooManyLevelsError
from workbench.survival import kaplan_meier, logrank_test, pairwise_logrank


def _frame(k: int, n: int = 3_000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": rng.exponential(12, n).round(1) + 0.1,
            "e": rng.integers(0, 2, n),
            "g": rng.integers(0, k, n).astype(str),
        }
    )


def test_pairwise_logrank_refuses_many_levels_before_testing():
    with pytest.raises(
        TooManyLevelsError,
        match=r"`group_col`='g' has 1,000 distinct values, more than max_groups=20.*raise `max_groups`",
    ):
        pairwise_logrank(_frame(1_000, n=20_000), duration_col="t", event_col="e", group_col="g")


def test_pairwise_logrank_max_groups_lets_a_user_raise_the_limit():
    r = pairwise_logrank(_frame(25), duration_col="t", event_col="e", group_col="g", max_groups=25)
    assert len(r.summary) == 25 * 24 // 2


def test_grouping_by_the_id_or_a_personal_column_is_refused():
    ds = load_dataset("synthetic", n_customers=500)
    id_col = ds.spec.id
    for func in (kaplan_meier, logrank_test, pairwise_logrank):
        with pytest.raises(ParameterError, match=rf"group_col.*{id_col}"):
            func(ds, group_col=id_col)


@pytest.mark.parametrize("func", [kaplan_meier, logrank_test], ids=lambda f: f.__name__)
def test_curves_and_test_refuse_many_levels_naming_column_count_and_fix(func):
    """A curve (or a log-rank group) per value of a continuous column is refused before any
    estimate, with the count, the limit argument and a binning suggestion."""
    df = _frame(2).assign(charge=np.random.default_rng(5).uniform(20, 120, 3_000).round(2))
    with pytest.raises(
        TooManyLevelsError,
        match=rf"{func.__name__}: `group_col`='charge' has 2,\d{{3}} distinct values, more than "
        r"max_groups=20; it looks continuous: bin it first, e\.g\. .*pd\.qcut.*raise `max_groups`",
    ):
        func(df, duration_col="t", event_col="e", group_col="charge")
    with pytest.raises(TooManyLevelsError, match=r"`group_col`='g' has 25 distinct values.*merge"):
        func(_frame(25), duration_col="t", event_col="e", group_col="g")
    r = func(_frame(25), duration_col="t", event_col="e", group_col="g", max_groups=25)
    groups = r.summary["group"] if func is kaplan_meier else r.groups["group"]
    assert len(groups) == 25
