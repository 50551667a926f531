"""Cause-specific Cox model: churn from one cause is the event, every other cause censored
(Prentice et al. 1978); the fit is :func:`workbench.survival.fit_cox`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import ParameterError
from ._design import _column, _event_array, _resolve_frame
from .cox import CoxResult, _fit_cox

__all__ = ["cause_specific_cox"]


def cause_specific_cox(
    data: Any,
    *,
    cause: Any,
    cause_col: str | None = None,
    duration_col: str | None = None,
    event_col: str | None = None,
    covariates: Sequence[str],
    reference: dict | None = None,
    strata: Sequence[str] | str | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    ties: str = "efron",
    penalizer: float = 0.0,
    alpha: float = 0.05,
    max_iter: int = 50,
    firth: bool = False,
) -> CoxResult:
    """Cause-specific Cox model: churn from ``cause`` is the event, every other cause is censored.

    Parameters are those of :func:`fit_cox`, plus ``cause`` (a value of ``cause_col``) and
    ``cause_col`` (default ``data.spec.churn_type``). A customer counts as an event when
    ``event_col == 1`` and ``cause_col == cause``.

    Raises
    ------
    ParameterError
        ``cause`` never occurs among the churners (the message lists the causes present).

    References
    ----------
    Prentice, R. L. et al. (1978). The analysis of failure times in the presence of competing risks.
    Biometrics 34(4), 541-554.
    """
    frame, spec = _resolve_frame(data)
    cause_col = _column(frame, spec, cause_col, argument="cause_col", role="churn_type")
    event_col = _column(frame, spec, event_col, argument="event_col", role="event")
    churned = _event_array(frame, event_col, "cause_specific_cox") == 1  # refuses bad coding
    present = frame.loc[churned, cause_col].dropna()
    counts = present.astype(str).value_counts()
    if str(cause) not in counts.index:
        raise ParameterError(
            f"`cause` {cause!r} never occurs among the churners in {cause_col!r}; causes present: "
            f"{dict(counts)}. Pass one of these."
        )
    new = frame.copy()
    flag = "__cause_event__"
    new[flag] = (churned & (frame[cause_col].astype(str) == str(cause))).astype(int)
    res = _fit_cox(
        new,
        duration_col=_column(frame, spec, duration_col, argument="duration_col", role="tenure"),
        event_col=flag,
        covariates=covariates,
        reference=reference,
        strata=strata,
        cluster_col=cluster_col,
        weights_col=weights_col,
        ties=ties,
        penalizer=penalizer,
        alpha=alpha,
        max_iter=max_iter,
        firth=firth,
    )
    res.meta["cause"] = cause
    if hasattr(data, "fingerprint"):
        res.meta["fingerprint"] = data.fingerprint  # fitted on a copy with the cause's event flag
    res.meta["method"] = (
        f"cause-specific Cox ({res.meta['ties']} ties), cause {cause!r}; other causes censored"
    )
    res.title = f"Cause-specific Cox model: {cause}"
    return res
