import json

import pytest

from workbench.findings import Finding, as_finding, ci_label
from workbench.results import to_jsonable


@pytest.mark.parametrize(
    ("alpha", "label"), [(0.05, "95% CI"), (0.1, "90% CI"), (0.025, "97.5% CI"), (0.01, "99% CI")]
)
def test_ci_label_follows_alpha(alpha, label):
    assert ci_label(alpha) == label


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, float("nan")])
def test_ci_label_refuses_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match="alpha must be in"):
        ci_label(alpha)


def test_finding_round_trips_through_results_json():
    f = Finding(
        "Median tenure is 41 months.", importance=1, caveats=["simulated data"], section="Survival"
    )
    rec = json.loads(json.dumps(to_jsonable([f, "plain"])))
    assert rec[0] == {
        "text": "Median tenure is 41 months.",
        "importance": 1,
        "caveats": ["simulated data"],
        "section": "Survival",
        "kind": "finding",
    }
    assert as_finding(rec[0]) == f
    assert as_finding(rec[1]).text == "plain" and as_finding(rec[1]).importance == 2


def test_finding_refuses_empty_text_and_bad_importance():
    with pytest.raises(ValueError, match="non-empty"):
        Finding("  ")
    with pytest.raises(ValueError, match="importance"):
        Finding("x", importance=5)
