"""One error hierarchy for the package, and warning classes for statistical caveats.

Errors say what was wrong, show what was received and suggest the fix. Caveats are warnings of
their own classes (all subclasses of :class:`WorkbenchWarning`) so that the runner can collect
them into a run's manifest and the report's "warnings" section: they are never silent.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class SpecError(WorkbenchError, ValueError):
    """A role spec is malformed (unknown role, wrong type, missing column name)."""


class DataValidationError(WorkbenchError, ValueError):
    """The data break a validation rule. The message names column, rule, count, ids and the fix."""

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rule: str | None = None,
        n_rows: int | None = None,
        examples: list | None = None,
    ):
        super().__init__(message)
        self.column = column
        self.rule = rule
        self.n_rows = n_rows
        self.examples = examples or []


class DatasetNotFoundError(WorkbenchError, FileNotFoundError):
    """A named dataset or a data file does not exist."""


class ParameterError(WorkbenchError, ValueError):
    """A notebook / function parameter is unknown or of the wrong type or value."""


class ModelError(WorkbenchError, RuntimeError):
    """A model cannot be fitted at all on these data (no events, singular design, ...)."""


class RunError(WorkbenchError, RuntimeError):
    """A notebook run or batch failed."""


# ---------------------------------------------------------------- warnings (statistical caveats)
class WorkbenchWarning(UserWarning):
    """Base class of every caveat the workbench raises; the runner collects these into reports."""


class RowsExcludedWarning(WorkbenchWarning):
    """Rows were excluded from an analysis (the message says how many and why)."""


class ConvergenceWarning(WorkbenchWarning):
    """An optimiser did not converge; estimates are not to be trusted as they are."""


class SeparationWarning(WorkbenchWarning):
    """(Quasi-)complete separation or monotone likelihood: the MLE is infinite."""


class ProportionalHazardsWarning(WorkbenchWarning):
    """The proportional-hazards assumption is rejected for at least one covariate."""


class ExtremeWeightsWarning(WorkbenchWarning):
    """A few customers carry a large share of the inverse-probability weight."""


class PositivityWarning(WorkbenchWarning):
    """Propensities at or near 0 or 1: some customers have (almost) no comparable counterpart."""


class ExtrapolationWarning(WorkbenchWarning):
    """A quantity is extrapolated beyond the follow-up of the data."""


class SmallSampleWarning(WorkbenchWarning):
    """Too few customers or events for the model (events per parameter, tiny groups)."""


class CollinearityWarning(WorkbenchWarning):
    """A covariate is constant or collinear with others and was dropped or made the fit unstable."""


class DataQualityWarning(WorkbenchWarning):
    """A data oddity that does not stop the analysis (e.g. zero tenure kept by policy)."""


class ResidualImbalanceWarning(WorkbenchWarning):
    """After weighting, confounder terms (levels, squares, interactions) stay detectably unbalanced:
    the propensity model misses part of the confounding."""


class SpecificationWarning(WorkbenchWarning):
    """An estimate moves materially when the confounders enter the models differently: it depends
    on how the propensity / outcome models are specified."""
