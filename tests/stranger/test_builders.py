"""The stranger data sets really have the conditions they are meant to reproduce (issue 12)."""

from __future__ import annotations

import builders
import numpy as np
import pandas as pd
import yaml


def test_conditions(stranger):
    f, spec = stranger.frame, stranger.spec
    assert len(f) == builders.N_CUSTOMERS and f["client_ref"].is_unique
    t = f["years_with_us"]
    assert (t == np.floor(t)).all() and t.min() == 0
    assert (t == 0).mean() > 0.15  # many zeros
    assert t.nunique() <= 8 and spec["tenure_unit"] == "years"
    assert set(f["left"].unique()) == {0, 1}
    # satisfaction unrelated to churn: drawn independently (chi-square test of independence)
    from scipy.stats import chi2_contingency

    assert chi2_contingency(pd.crosstab(f["csat"], f["left"]))[1] > 0.001
    top = f[f["products"] == stranger.top_products]
    assert len(top) == stranger.n_top >= 20 and (top["left"] == 1).all()
    assert (top["years_with_us"] == 0).all()
    for role in ("churn_type", "revenue", "start_date"):
        assert role not in spec
    assert spec["personal"] == ["surname"] and 2_000 < f["surname"].nunique() <= 2_800
    assert f["usage"].nunique() > 1_000  # a continuous column a user might group by
    assert set(spec["covariates"]) <= set(f.columns)


def test_written_files_round_trip(stranger):
    back = pd.read_csv(stranger.data_path)
    assert back.shape == stranger.frame.shape
    assert yaml.safe_load(stranger.spec_path.read_text()) == stranger.spec
    assert builders.notebook_parameters(stranger) == {
        "dataset": "file",
        "data_path": str(stranger.data_path),
        "spec_path": str(stranger.spec_path),
    }


def test_personal_value_grep_finds_a_leak(stranger, tmp_path):
    (tmp_path / "clean.txt").write_text("nothing personal here")
    assert builders.personal_values_in(tmp_path, stranger) == {}
    (tmp_path / "leak.html").write_text(f"<td>{stranger.surnames[5]}</td>")
    assert list(builders.personal_values_in(tmp_path, stranger)) == [str(tmp_path / "leak.html")]
