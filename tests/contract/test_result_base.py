"""The Result base class: key column, caveats, interval label from alpha, to_record with meta, and
what ``record()`` writes to results.json."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from workbench.exceptions import ParameterError
from workbench.record import META_KEY, record
from workbench.results import REQUIRED_META, Result, standard_meta


def _result(alpha=0.1):
    summary = pd.DataFrame(
        {
            "group": ["a", "b"],
            "estimate": [0.2, 0.4],
            "ci_lower": [0.1, 0.3],
            "ci_upper": [0.3, 0.5],
        }
    )
    meta = standard_meta(
        pd.DataFrame({"x": [1, 2, 3]}),
        alpha=alpha,
        method="demo",
        events=2,
        reference_levels={"plan": "basic"},
        exclusions=[{"rule": "missing", "n_rows": 4}],
    )
    return Result(summary, meta, warnings=["tiny groups"])


def test_standard_meta_has_every_required_key():
    r = _result()
    assert list(r.meta)[: len(REQUIRED_META)] == list(REQUIRED_META)
    assert r.meta["n"] == 3 and len(r.meta["fingerprint"]) == 16


def test_key_declared_or_inferred():
    assert _result().key == "group"
    assert Result(pd.DataFrame({"stage": ["0-3"], "term": ["x"]})).key == "term"
    assert Result(pd.DataFrame({"stage": ["0-3"]}), key="stage").key == "stage"


def test_interval_label_from_alpha_not_literal():
    r = _result(alpha=0.1)
    assert r.ci_label == "90% CI"
    html = r._repr_html_()
    assert "90% CI" in html and "95%" not in html
    assert "reference: plan=basic" in html and "4 rows excluded" in html
    assert "95% CI" in _result(alpha=0.05)._repr_html_()


def test_to_record_carries_meta_and_caveats():
    rec = _result().to_record()
    json.dumps(rec, allow_nan=False)
    assert rec["key"] == "group" and rec["caveats"] == ["tiny groups"]
    assert rec["meta"]["alpha"] == 0.1 and rec["meta"]["reference_levels"] == {"plan": "basic"}
    assert rec["summary"][1]["estimate"] == 0.4
    assert _result().caveats == ["tiny groups"]


def test_record_writes_summary_and_meta(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RUN_DIR", str(tmp_path))
    r = _result()
    assert record("rates", r) is r
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["rates"][0]["group"] == "a"  # tables stay lists of records
    assert data[META_KEY]["rates"]["meta"]["n"] == 3
    assert data[META_KEY]["rates"]["key"] == "group"
    with pytest.raises(ParameterError, match="'_meta' is reserved"):
        record(META_KEY, 1)


def test_dataframe_results_carry_a_fingerprint_of_the_columns_used():
    """On a DataFrame, survival results record a fingerprint (computed on first read of meta):
    equal for equal data, different when a used column changes, unchanged by an unused one."""
    import numpy as np
    import pandas as pd

    from workbench import survival as S

    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "t": rng.integers(1, 40, 400).astype(float),
            "e": rng.integers(0, 2, 400),
            "g": rng.choice(["a", "b"], 400),
            "other": rng.normal(size=400),
        }
    )
    kw = {"duration_col": "t", "event_col": "e"}
    fp = S.kaplan_meier(df, group_col="g", **kw).meta["fingerprint"]
    assert isinstance(fp, str) and len(fp) == 16
    assert S.kaplan_meier(df.copy(), group_col="g", **kw).meta["fingerprint"] == fp
    assert S.kaplan_meier(df.assign(other=0.0), group_col="g", **kw).meta["fingerprint"] == fp
    changed = df.assign(t=df["t"].where(df.index != 7, 99.0))
    assert S.kaplan_meier(changed, group_col="g", **kw).meta["fingerprint"] != fp
    for res in (
        S.logrank_test(df, group_col="g", **kw),
        S.rmst(df, tau=20, **kw),
        S.fit_cox(df, covariates=["g"], **kw),
    ):
        assert isinstance(res.meta["fingerprint"], str) and len(res.meta["fingerprint"]) == 16
