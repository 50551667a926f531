"""Notebooks 01 (retention overview) and 05 (customer value) on the stranger data sets (issue 12),
run with only dataset / data_path / spec_path: tenure in whole years with zeros (``zero_tenure:
keep``), no churn cause, no revenue, no start date, a personal ``surname`` column.

Checked: both exit 0; the life table counts every customer, including those with tenure 0, and its
bands follow the yearly grid (stated); the sections without their role say which role would enable
them; no surname or customer id appears in any file of the run folder.
"""

from __future__ import annotations

import builders
import pytest
from _nbrun import execute


@pytest.mark.slow
def test_01_on_stranger_data(stranger, tmp_path):
    res = execute("01-retention-overview.ipynb", tmp_path, builders.notebook_parameters(stranger))
    f = stranger.frame
    n, zeros = len(f), int((f[stranger.spec["tenure"]] == 0).sum())
    life = res["lifecycle"]
    assert zeros > 0 and life[0]["customers_at_risk"] == n  # zero tenure kept, not dropped
    assert sum(r["churned"] for r in life) == int(f[stranger.spec["event"]].sum())
    assert [r["stage"] for r in life[:2]] == ["0-12", "12-24"]  # the yearly grid, not 0-3 months
    caveats = res["_meta"]["lifecycle"]["caveats"]
    assert any("whole years" in c for c in caveats)
    texts = [k["text"] for k in res["key_findings"]]
    assert any("`churn_type`" in t for t in texts) and any("`start_date`" in t for t in texts)
    assert not any("lowest at 0-3" in t for t in texts)
    assert builders.personal_values_in(tmp_path, stranger) == {}


@pytest.mark.slow
def test_05_on_stranger_data(stranger, tmp_path):
    res = execute("05-customer-value.ipynb", tmp_path, builders.notebook_parameters(stranger))
    assert res["clv_by_segment"] == [] and res["customer_value"] == []
    texts = [k["text"] for k in res["key_findings"]]
    revenue = [t for t in texts if "`revenue`" in t]
    assert len(revenue) == 1  # one sentence naming the role that would enable lifetime value
    assert res["sbg"]  # the sBG model needs no revenue
    sbg = [t for t in texts if "sBG" in t]
    assert sbg and ("rise with tenure" not in sbg[0] or res["sbg"][0]["converged"])
    assert builders.personal_values_in(tmp_path, stranger) == {}
