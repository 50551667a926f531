"""Loyalty measures and RFM segments: by hand on a small log, and on CDNOW."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.exceptions import ParameterError
from workbench.purchases import TransactionSpec, load_transactions, loyalty_measures, rfm_summary


def _summary():
    rows = [
        ("a", "2024-01-01"),
        ("a", "2024-01-08"),
        ("a", "2024-01-15"),
        ("a", "2024-02-19"),  # 3 repeats, weekly
        ("b", "2024-01-01"),
        ("b", "2024-02-12"),
        ("b", "2024-02-19"),
        ("b", "2024-02-26"),  # accelerating
        ("c", "2024-01-01"),  # never again
    ]
    df = pd.DataFrame(rows, columns=["id", "day"]).assign(value=10.0)
    log = load_transactions(
        df, TransactionSpec(customer="id", timestamp="day", amount="value", time_unit="weeks")
    )
    return rfm_summary(log, calibration_end="2024-02-26", observation_end="2024-03-31")


def test_loyalty_measures_by_hand():
    lo = loyalty_measures(_summary(), k=2)
    c = lo.customers.set_index("customer_id")
    # a: x=3, recency 7 weeks, T=8 -> mean inter-purchase time 7/3; last purchase 1 week ago: awake
    assert c.loc["a", "interpurchase_time"] == pytest.approx(7 / 3)
    assert c.loc["a", "purchase_rate"] == pytest.approx(3 / 8)
    assert not c.loc["a", "sleeping"]
    # b: 0 repeats in the first 4 weeks, 3 in the last 4 -> trend +3 / 4 per week
    assert c.loc["b", "frequency_trend"] == pytest.approx(3 / 4)
    # a: 2 repeats in the first half, 1 in the second
    assert c.loc["a", "frequency_trend"] == pytest.approx((1 - 2) / 4)
    # c: no repeat; 8 weeks since the first purchase > 2 x the repeat buyers' median inter-purchase time
    assert np.isnan(c.loc["c", "interpurchase_time"]) and c.loc["c", "sleeping"]
    assert lo.meta["typical_interpurchase_time_cohort"] == pytest.approx(np.median([7 / 3, 8 / 3]))
    assert c.loc["c", "R"] == 1 and c.loc["c", "F"] == 1
    assert set(c["rfm_cell"]) >= {"R1F1M1"}
    s = lo.summary.set_index("group")
    assert s.loc["all", "repeat_purchase_rate"] == pytest.approx(2 / 3)
    assert s.loc["all", "n"] == 3


def test_loyalty_bad_input():
    with pytest.raises(ParameterError, match="`k`"):
        loyalty_measures(_summary(), k=0)
    with pytest.raises(ParameterError, match="n_groups"):
        loyalty_measures(_summary(), n_groups=1)
    with pytest.raises(ParameterError, match="CustomerSummary"):
        loyalty_measures(pd.DataFrame())
