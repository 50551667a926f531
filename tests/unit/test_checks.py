"""The shared argument checks, and that the analyses use them (one message everywhere)."""

from __future__ import annotations

import pytest

from workbench.checks import check_alpha
from workbench.exceptions import ParameterError

MSG = r"`alpha` must be a number in \(0, 1\), e.g. 0.05 for 95% intervals; got "


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "five", None, True])
def test_check_alpha_refuses_with_the_fix(bad):
    with pytest.raises(ParameterError, match=MSG + repr(bad).replace("(", r"\(")):
        check_alpha(bad)


def test_check_alpha_accepts():
    assert check_alpha(0.05) == 0.05 and check_alpha("0.1") == 0.1


def test_analyses_share_the_check(synthetic_small):
    from workbench.retention import churn_by_cause
    from workbench.survival import fit_cox, kaplan_meier

    with pytest.raises(ParameterError, match=MSG + "2"):
        kaplan_meier(synthetic_small, alpha=2)
    with pytest.raises(ParameterError, match=MSG + "2"):
        fit_cox(synthetic_small, covariates=["age"], alpha=2)
    with pytest.raises(ParameterError, match=MSG + "2"):
        churn_by_cause(synthetic_small, alpha=2)
