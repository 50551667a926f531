"""Firth-penalised logistic and Cox regression with profile penalised-likelihood CIs.

Firth's (1993) penalty ``0.5 log|I(beta)|`` removes the first-order bias of the maximum-likelihood
estimate and keeps it finite under separation (logistic; Heinze & Schemper 2002) and under
monotone likelihood (Cox; Heinze & Schemper 2001). For logistic regression the estimate equals R
``brglm2``'s ``glm(..., method = "brglmFit", type = "AS_mean")`` (checked to 1e-6 on brglm2's
``endometrial`` data in ``tests/unit/test_drivers_firth.py``). Wald intervals are unreliable for
these estimates, so CIs are from the profile penalised likelihood.

References
----------
Firth, D. (1993). Bias reduction of maximum likelihood estimates. *Biometrika* 80, 27-38.
Heinze, G. and Schemper, M. (2002). A solution to the problem of separation in logistic regression.
*Statistics in Medicine* 21, 2409-2419.
Heinze, G. and Schemper, M. (2001). A solution to the problem of monotone likelihood in Cox
regression. *Biometrics* 57, 114-119.
Kosmidis, I. and Firth, D. (2021). Jeffreys-prior penalty, finiteness and shrinkage in binomial-response
generalized linear models. *Biometrika* 108, 71-82.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..results import Result
from .models import fit_cox, fit_logistic
from .profile import profile_ci


class FirthResult(Result):
    """Coefficients of a Firth-penalised fit (``summary``: term, estimate, se, ci_lower, ci_upper,
    statistic, p_value, ci_method); ``meta['penalised_loglik']``; ``fit_`` is the array-level fit."""

    title = "Firth-penalised regression"


def _frame(X, name="X"):
    if isinstance(X, pd.DataFrame):
        if not all(pd.api.types.is_numeric_dtype(X[c]) for c in X.columns):
            bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
            raise ParameterError(
                f"`{name}` has non-numeric columns {bad}; encode them first (e.g. pandas.get_dummies)."
            )
        return X.to_numpy(float), list(map(str, X.columns))
    X = np.asarray(X, float)
    return X, [f"x{j}" for j in range(X.shape[1])]


def firth_logistic(
    X, y, *, weights=None, intercept: bool = True, alpha: float = 0.05, profile: bool = True
) -> FirthResult:
    """Firth-penalised logistic regression of 0/1 ``y`` on ``X``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"x": [0, 0, 0, 1, 1, 1, 0, 1]})
    >>> r = firth_logistic(X, [0, 0, 1, 1, 1, 1, 0, 1])   # x = 1 separates: the MLE is infinite
    >>> bool(np.isfinite(r.summary["estimate"]).all())
    True
    """
    Xa, names = _frame(X)
    y = np.asarray(y, float)
    if not np.isin(y, [0, 1]).all():
        raise ParameterError(
            "`y` must be 0/1 for logistic regression; got values "
            f"{sorted(set(np.unique(y)) - {0.0, 1.0})[:5]}."
        )
    if intercept:
        Xa = np.column_stack([np.ones(len(y)), Xa])
        names = ["(Intercept)", *names]
    fit = fit_logistic(Xa, y, weights=weights, firth=True, names=names)
    if profile:
        profile_ci(fit, alpha=alpha)
    meta = {
        "n": len(y),
        "events": int(y.sum()),
        "alpha": alpha,
        "penalised_loglik": fit.loglik_,
        "converged": fit.converged,
        "method": "Firth-penalised logistic regression"
        + (", profile penalised-likelihood CIs" if profile else ", Wald CIs"),
    }
    res = FirthResult(fit.table(alpha), meta)
    res.fit_ = fit
    return res


def firth_cox(
    X, time, event, *, ties: str = "breslow", alpha: float = 0.05, profile: bool = True
) -> FirthResult:
    """Firth-type penalised Cox regression (Heinze & Schemper 2001), fitted by the Cox engine
    (:func:`workbench.survival.engine.cox_fit` with ``firth=True``); Breslow ties by default as R
    ``coxphf``, ``ties='efron'`` accepted. For data frames with categorical columns, strata or
    weights use :func:`workbench.survival.fit_cox` with ``firth=True``."""
    Xa, names = _frame(X)
    fit = fit_cox(
        Xa, np.asarray(time, float), np.asarray(event, int), firth=True, ties=ties, names=names
    )
    if profile:
        profile_ci(fit, alpha=alpha)
    meta = {
        "n": len(Xa),
        "events": int(np.sum(event)),
        "alpha": alpha,
        "penalised_loglik": fit.loglik_,
        "converged": fit.converged,
        "method": f"Firth-penalised Cox regression ({ties} ties)"
        + (", profile penalised-likelihood CIs" if profile else ", Wald CIs"),
    }
    res = FirthResult(fit.table(alpha), meta, title="Firth-penalised Cox regression")
    res.fit_ = fit
    return res
