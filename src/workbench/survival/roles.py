"""Role-driven defaults of the survival notebook: what to group by and which covariates to model,
taken from the data's role spec (never from another data set's column names), and the sentence
that says why a section is skipped when its role is absent.
"""

from __future__ import annotations

from typing import Any

from ..columns import check_grouping, is_categorical
from ..exceptions import ParameterError

__all__ = [
    "MAX_GROUPS",
    "competing_skip_reason",
    "default_covariates",
    "default_group",
    "group_skip_reason",
]

MAX_GROUPS = 20


def _spec(data: Any):
    spec = getattr(data, "spec", None)
    if spec is None:
        raise ParameterError(
            "role defaults need a workbench Dataset (data + role spec); with a DataFrame pass the "
            "columns explicitly (group_by=..., covariates=[...])."
        )
    return spec


def _frame(data: Any):
    """The customer rows, or for an aggregated dataset (cell counts) the counted columns only:
    the columns a group or a covariate can be taken from."""
    if getattr(data, "aggregated", False) is True:
        spec = data.spec
        counted = [c for c in data.columns if c != spec.start_date]  # a date is not a group
        cause = data.cells.columns["cause_col"]
        return data.cells.cells[counted + ([cause] if cause else [])]
    return data.frame


def default_group(
    data: Any, group_by: str | None = None, *, max_groups: int = MAX_GROUPS
) -> str | None:
    """The column whose groups notebook 02 compares, checked before any fit.

    ``group_by`` if given, else the spec's ``segment`` role, else the first switching cost that is
    categorical with at most ``max_groups`` levels; None when the data have none. A continuous
    column or one with more than ``max_groups`` levels is refused with its count and a binning
    suggestion (:func:`workbench.columns.check_grouping`); so are the id and personal columns.

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> default_group(load_dataset("synthetic", n_customers=500))
    'segment'
    """
    spec = _spec(data)
    frame = _frame(data)
    if group_by:
        return check_grouping(
            data, group_by, argument="group_by", max_levels=max_groups, limit_argument="max_groups"
        )
    candidates = [spec.segment] if spec.segment else []
    candidates += [c for c in spec.switching_costs if c in frame and is_categorical(frame[c])]
    for c in candidates:
        if c in frame and frame[c].nunique(dropna=True) <= max_groups:
            return check_grouping(
                data, c, argument="group_by", max_levels=max_groups, limit_argument="max_groups"
            )
    return None


def default_covariates(data: Any, covariates: list | None = None, *, exclude=()) -> list[str]:
    """Cox / Fine-Gray covariates: ``covariates`` if given, else the spec's ``covariates`` plus the
    satisfaction score and the switching costs that are present in the data, less ``exclude``
    (e.g. the strata, which get their own baseline hazard instead of a coefficient).

    Examples
    --------
    >>> from workbench.data import load_dataset
    >>> default_covariates(load_dataset("synthetic", n_customers=500))[:2]
    ['age', 'segment']
    """
    spec = _spec(data)
    if covariates:
        return list(covariates)
    wanted = [*spec.covariates, spec.satisfaction, *spec.switching_costs]
    out: list[str] = []
    frame = _frame(data)
    for c in wanted:
        if c and c in frame.columns and c not in out and c not in set(exclude or ()):
            out.append(c)
    return out


def competing_skip_reason(data: Any) -> str | None:
    """None when the data name a churn-cause column; else the one sentence notebook 02 shows."""
    spec = _spec(data)
    if spec.churn_type and spec.churn_type in _frame(data).columns:
        return None
    return (
        "Competing churn causes are skipped: the data have no churn-cause column; declare one "
        "under the spec role `churn_type` to see the cumulative incidence of each cause, Gray's "
        "test and the Fine-Gray model."
    )


def group_skip_reason(data: Any) -> str:
    """The sentence notebook 02 shows when there is no group to compare."""
    return (
        "Comparing groups is skipped: the data declare no segment; name one under the spec role "
        "`segment` (or pass group_by) to compare retention between groups."
    )
