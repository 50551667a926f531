"""The one resolver: a Dataset or DataFrame plus column keywords -> checked arrays.

Every public analysis starts here, so that the same mistake gets the same error everywhere:

* :func:`resolve_frame` -- ``(frame, spec)`` from a :class:`~workbench.data.Dataset` or a DataFrame;
* :func:`column_name` / :func:`column_list` -- a column argument (defaulting from the spec's role)
  or a list of them, checked to exist, with "did you mean" suggestions for typos;
* :func:`tenure_array`, :func:`event_array`, :func:`entry_array`, :func:`weights_array` -- numeric,
  complete, finite, non-negative tenure; 0/1 (or boolean) events; entry <= exit; weights;
* :func:`resolve` -- all of the above in one call, returning :class:`Resolved`;
* :func:`categorical_levels`, :func:`reference_level`, :func:`term_name`, :func:`dummies` -- the one
  reference-level rule (R's: the first level of a categorical, else the first in sorted order;
  ``reference=`` overrides it) and the one term-name style, ``contract[one_year]``;
* :func:`check_alpha` and :func:`data_fingerprint`.

Each kind of mistake raises its own exception class (see :mod:`workbench.exceptions`), and every
message names the argument and the column, shows what was received (count, first offending row
positions and values) and suggests the fix. Row *positions* are shown, never customer ids or index
labels, because ids (and columns declared personal) must not reach reports or logs.
"""

from .arrays import (
    Resolved,
    entry_array,
    event_array,
    resolve,
    tenure_array,
    weights_array,
)
from .levels import (
    MAX_GROUPS,
    categorical_levels,
    check_grouping,
    dummies,
    is_categorical,
    reference_level,
    term_name,
)
from .names import (
    check_alpha,
    column_list,
    column_name,
    columns_fingerprint,
    data_fingerprint,
    fingerprint_of,
    months_per_unit,
    resolve_frame,
)

__all__ = [
    "MAX_GROUPS",
    "check_grouping",
    "months_per_unit",
    "Resolved",
    "categorical_levels",
    "check_alpha",
    "column_list",
    "column_name",
    "columns_fingerprint",
    "data_fingerprint",
    "fingerprint_of",
    "dummies",
    "entry_array",
    "event_array",
    "is_categorical",
    "reference_level",
    "resolve",
    "resolve_frame",
    "tenure_array",
    "term_name",
    "weights_array",
]
