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


class CollinearityError(ModelError):
    """The design is singular: some covariates are exact linear combinations of others (the
    message lists them). Not separation, which gives estimates with a SeparationWarning."""


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


class CoarseTenureWarning(DataQualityWarning):
    """Tenure lies on a coarse grid (e.g. whole years): shapes within one step cannot be seen.

    ``grid`` holds the step (in the data's unit), its name, the distinct values and the ties;
    the same dict is ``Dataset.tenure_grid`` for analyses choosing bands and periods.
    """

    def __init__(self, message: str = "", grid: dict | None = None):
        super().__init__(message)
        self.grid = grid or {}


# ---------------------------------------------------------------- one class per kind of input mistake
# Raised by the one resolver, :mod:`workbench.columns`. Each subclasses the older, broader class that
# the same mistake used to raise, so ``except DataValidationError`` / ``except ParameterError``
# written against earlier versions still catch it.
class ColumnNotFoundError(DataValidationError, ParameterError):
    """A column argument names a column the data do not have (the message suggests close names)."""


class MissingColumnArgumentError(ParameterError):
    """A required column argument was not given and the data have no role spec to take it from."""


class ColumnListError(ParameterError, TypeError):
    """A list of column names was expected (e.g. ``covariates``) but something else was received."""


class ColumnTypeError(DataValidationError, TypeError):
    """A column has the wrong type (text where numbers are needed)."""


class MissingValueError(DataValidationError):
    """A column that must be complete (tenure, event, entry, weights) has missing values."""


class NonFiniteValueError(DataValidationError):
    """A numeric column holds ``inf`` or ``-inf``."""


class NegativeValueError(DataValidationError):
    """Tenure, entry time or a weight is negative."""


class EventCodingError(DataValidationError):
    """The event column is not coded 0/1 (1 = churned) or boolean."""


class EntryAfterExitError(DataValidationError):
    """Delayed entry (left truncation): an entry time is after the customer's exit time."""


class ReferenceLevelError(ParameterError):
    """``reference=`` names a level that the categorical covariate does not have."""


class AlphaError(ParameterError):
    """``alpha`` is not a number in (0, 1)."""


class LateEntryWarning(SmallSampleWarning):
    """Delayed entry leaves the risk sets at early tenure tiny: the start of the curve is unreliable.

    The message gives the tenure range that is estimable (where enough customers are at risk).
    """


class MethodNotAvailableError(ParameterError):
    """The requested option has no validated implementation (e.g. Fine-Gray with delayed entry)."""


class TooManyLevelsError(ParameterError):
    """A grouping or categorical covariate has more levels than an analysis accepts (count + remedy)."""


class BatchWarning(WorkbenchWarning):
    """A batch file lists the same run twice (merged) or an entry was overridden."""


class UnavailableWarning(WorkbenchWarning):
    """An analysis cannot be done on these data (e.g. no start dates for cohorts, no revenue for
    lifetime value); the result is empty and says which role would enable it."""


class ResidualImbalanceWarning(WorkbenchWarning):
    """After weighting, confounder terms (levels, squares, interactions) stay detectably unbalanced:
    the propensity model misses part of the confounding."""


class SpecificationWarning(WorkbenchWarning):
    """An estimate moves materially when the confounders enter the models differently: it depends
    on how the propensity / outcome models are specified."""
