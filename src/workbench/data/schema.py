"""The role spec: which column plays which role, in which unit, on which scale.

A spec is written as YAML (see ``data/README.md`` for the full schema and ``data/specs/*.yml`` for
examples) and loaded with :meth:`RoleSpec.from_yaml`. Analyses read column names from it, so the
same notebook runs on any data set that comes with a spec.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..exceptions import SpecError

TENURE_UNITS = ("days", "weeks", "months", "years")
ASSIGNMENTS = ("randomised", "observational")
CHURN_TYPE_POLICIES = ("churned_only", "optional")
ZERO_TENURE_POLICIES = ("error", "keep", "exclude")
MISSING_POLICIES = ("error", "exclude")
SINGLE_COLUMN_ROLES = (
    "entry",
    "start",
    "churn_type",
    "churn_reason",
    "start_date",
    "satisfaction",
    "perceived_value",
    "segment",
    "revenue",
    "margin",
    "cltv",
    "referrals",
)


@dataclass
class Treatment:
    """An intervention column: its arms, the control arm and how it was assigned."""

    column: str
    control: Any
    assignment: str = "observational"
    arms: list | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.assignment not in ASSIGNMENTS:
            raise SpecError(
                f"treatment '{self.column}': `assignment` must be one of {ASSIGNMENTS}, "
                f"got {self.assignment!r}. Write 'randomised' for an experiment, else 'observational'."
            )


@dataclass
class RoleSpec:
    """Roles -> columns for one data set.

    Parameters
    ----------
    id, tenure, event : str
        Required roles: customer id, duration (tenure) and churned (0/1) columns.
    tenure_unit : {'days', 'weeks', 'months', 'years'}
        The unit tenure is recorded in; estimation keeps it, display converts it
        (:func:`workbench.data.units.convert_tenure`).
    churn_type : str, optional
        Cause of churn (competing risks). ``churn_type_policy='churned_only'`` requires it exactly
        for churned rows; ``'optional'`` allows missing causes among churners.
    start_date : str, optional
        Date the customer joined (cohorts).
    satisfaction, satisfaction_scale : str, (low, high)
    switching_costs : list of str
    perceived_value : str, optional
    treatments : list of Treatment
    segment, revenue, margin, cltv : str, optional
        ``revenue`` and ``margin`` are amounts per ``value_period``.
    referrals : str, optional
        A count of referrals or a yes/no flag (checked: numbers >= 0, or 0/1 / yes/no).
    covariates : list of str
    categorical : dict column -> list of levels (first level is the reference)
    zero_tenure : {'error', 'keep', 'exclude'}
        What to do with tenure exactly 0 (default: refuse).
    missing_covariates : {'error', 'exclude'}
        What to do with missing values in covariates (default: refuse). Excluded rows are counted
        and reported, never dropped silently.
    absent_levels : {'error', 'drop'}
        Declared categorical levels that do not occur (e.g. in a subset queried from a larger file):
        refuse (default) or drop them from the categories with a ``DataQualityWarning``.
    personal : list of str
        Columns holding personal data (surname, email, ...). They, and the id, never appear in a
        report, results.json, figure, warning or CLI message; grouping by one is refused
        (:func:`workbench.privacy.check_not_personal`).
    currency : str, optional
        ISO code of ``revenue`` / ``margin`` amounts (e.g. ``EUR``), shown by reports.
    encoding, sep : str, optional
        How to read a CSV file (e.g. ``encoding: latin-1``, ``sep: ";"``).
    analysis_date : str, optional
        Date the data were extracted (YYYY-MM-DD); start date + tenure must not pass it.
    entry : str, optional
        Delayed entry (left truncation): tenure at which each customer came under observation,
        e.g. the start of a snapshot's window (the Telco adapter derives it as
        ``max(0, tenure - 3)``, one quarter). Analyses take it as ``entry_col``.
    observation_window : float, optional
        Length (tenure units) of the snapshot window ending at the analysis date from which the
        data were exported; documents how ``entry`` was derived.
    start : str, optional
        Counting-process layout: several ``(start, tenure]`` rows per customer (``tenure`` is the
        row's end, ``event`` 1 on the row ending in churn), e.g. from
        :func:`workbench.data.events.build_intervals`; ids then repeat, intervals of one customer
        must not overlap.
    event_log : dict, optional
        Dated covariate table (an event log) for ``workbench data from-events``: ``time``,
        ``kind``, ``value`` (its columns) and ``rules`` (kind -> ``last`` / ``count`` / ``sum``).
    """

    id: str
    tenure: str
    event: str
    tenure_unit: str = "months"
    name: str = "custom"
    churn_type: str | None = None
    churn_type_policy: str = "churned_only"
    churn_reason: str | None = None
    start_date: str | None = None
    satisfaction: str | None = None
    satisfaction_scale: tuple | None = None
    switching_costs: list = field(default_factory=list)
    perceived_value: str | None = None
    treatments: list = field(default_factory=list)
    segment: str | None = None
    revenue: str | None = None
    margin: str | None = None
    cltv: str | None = None
    referrals: str | None = None
    value_period: str = "month"
    covariates: list = field(default_factory=list)
    categorical: dict = field(default_factory=dict)
    zero_tenure: str = "error"
    missing_covariates: str = "error"
    absent_levels: str = "error"
    description: str = ""
    personal: list = field(default_factory=list)
    currency: str | None = None
    encoding: str | None = None
    sep: str | None = None
    analysis_date: str | None = None
    entry: str | None = None
    observation_window: float | None = None
    start: str | None = None
    event_log: dict | None = None

    def __post_init__(self) -> None:
        for name in ("id", "tenure", "event"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise SpecError(
                    f"spec role `{name}` must name a column, got {getattr(self, name)!r}. "
                    f"Add e.g. `{name}: my_column` to the spec."
                )
        _one_of("tenure_unit", self.tenure_unit, TENURE_UNITS)
        _one_of("churn_type_policy", self.churn_type_policy, CHURN_TYPE_POLICIES)
        _one_of("zero_tenure", self.zero_tenure, ZERO_TENURE_POLICIES)
        _one_of("missing_covariates", self.missing_covariates, MISSING_POLICIES)
        _one_of("absent_levels", self.absent_levels, ("error", "drop"))
        _one_of("value_period", self.value_period, ("day", "week", "month", "year"))
        if self.satisfaction_scale is not None:
            sc = self.satisfaction_scale
            ok = (
                isinstance(sc, (list, tuple))
                and len(sc) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sc)
                and sc[0] < sc[1]
            )
            if not ok:
                raise SpecError(
                    f"spec `satisfaction_scale` must be [low, high] with numbers low < high, got "
                    f"{self.satisfaction_scale!r}. Write e.g. `satisfaction_scale: [1, 5]`."
                )
            self.satisfaction_scale = tuple(sc)
        for name in ("switching_costs", "covariates", "personal"):
            v = getattr(self, name)
            if isinstance(v, str):
                setattr(self, name, [v])
            elif v is None:
                setattr(self, name, [])
            elif not isinstance(v, (list, tuple)) or not all(isinstance(c, str) for c in v):
                raise SpecError(
                    f"spec `{name}` must be a list of column names, got {v!r}. "
                    f"Write e.g. `{name}: [col_a, col_b]`."
                )
            else:
                setattr(self, name, list(v))
        if self.analysis_date is not None and hasattr(self.analysis_date, "isoformat"):
            self.analysis_date = self.analysis_date.isoformat()[:10]  # YAML reads dates as dates
        for name in ("currency", "encoding", "sep", "analysis_date"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise SpecError(
                    f"spec `{name}` must be a non-empty text, got {v!r} ({type(v).__name__}). "
                    + {
                        "currency": "Write e.g. `currency: EUR`.",
                        "encoding": "Write e.g. `encoding: latin-1`.",
                        "sep": 'Write e.g. `sep: ";"`.',
                        "analysis_date": "Write e.g. `analysis_date: 2024-12-31`.",
                    }[name]
                )
        if self.currency is not None and not (len(self.currency) == 3 and self.currency.isalpha()):
            raise SpecError(
                f"spec `currency` must be a three-letter ISO code such as EUR or USD, got "
                f"{self.currency!r}."
            )
        if self.analysis_date is not None:
            import datetime as _dt

            try:
                _dt.date.fromisoformat(str(self.analysis_date))
            except ValueError:
                raise SpecError(
                    f"spec `analysis_date` must be a date written YYYY-MM-DD, got "
                    f"{self.analysis_date!r}. Write e.g. `analysis_date: 2024-12-31`."
                ) from None
            self.analysis_date = str(self.analysis_date)
        if self.encoding is not None:
            import codecs

            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise SpecError(
                    f"spec `encoding: {self.encoding}` is not an encoding Python knows; use e.g. "
                    "utf-8, latin-1 or cp1252."
                ) from None
        if self.id in self.personal:
            self.personal = [c for c in self.personal if c != self.id]
        self.treatments = [
            t if isinstance(t, Treatment) else Treatment(**t) for t in self.treatments
        ]
        cat = self.categorical or {}
        if not isinstance(cat, dict) or not all(isinstance(v, (list, tuple)) for v in cat.values()):
            raise SpecError(
                f"spec `categorical` must map each column to its list of levels (reference first), "
                f"got {cat!r}. Write e.g. `categorical: {{contract: [month, year, two_year]}}`."
            )
        self.categorical = {str(k): list(v) for k, v in cat.items()}
        for name in SINGLE_COLUMN_ROLES:
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise SpecError(
                    f"spec role `{name}` must name one column, got {v!r} ({type(v).__name__}). "
                    f"Write `{name}: my_column`, or leave it out."
                )
        if self.entry is not None and self.start is not None:
            raise SpecError(
                "spec: give `entry` (one row per customer, delayed entry) or `start` ((start, "
                "stop] rows per customer), not both."
            )
        ow = self.observation_window
        if ow is not None and (isinstance(ow, bool) or not isinstance(ow, (int, float)) or ow <= 0):
            raise SpecError(
                f"spec `observation_window` must be a positive number of tenure units, got {ow!r}. "
                "Write e.g. `observation_window: 3` for a one-quarter snapshot."
            )
        if self.event_log is not None:
            from .events import RULES

            log = self.event_log
            ok = isinstance(log, dict) and set(log) <= {"time", "kind", "value", "rules"}
            rules = log.get("rules") if isinstance(log, dict) else None
            if not ok or not isinstance(rules, dict) or not set(rules.values()) <= set(RULES):
                raise SpecError(
                    f"spec `event_log` must be a mapping with `time`, `kind`, `value` (columns of "
                    f"the log) and `rules` (kind -> one of {RULES}), got {log!r}. Write e.g. "
                    "`event_log: {time: date, kind: kind, value: value, rules: {satisfaction: "
                    "last, complaint: count}}`."
                )

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> RoleSpec:
        if not isinstance(d, dict):
            raise SpecError(
                f"a spec must be a mapping of roles to columns, got {type(d).__name__}."
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = [k for k in d if k not in known]
        if unknown:
            hints = []
            for k in unknown:
                close = difflib.get_close_matches(k, known, n=1)
                hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            raise SpecError(
                f"unknown spec key(s): {', '.join(hints)}. Valid keys: {', '.join(sorted(known))}."
            )
        tr = []
        treatments = d.get("treatments") or []
        if isinstance(treatments, dict):
            treatments = [treatments]
        if not isinstance(treatments, list):
            raise SpecError(
                f"spec `treatments` must be a list of {{column: ..., control: ...}}, got {treatments!r}."
            )
        t_known = {f.name for f in dataclasses.fields(Treatment)}
        for t in treatments:
            if isinstance(t, dict):
                bad = [k for k in t if k not in t_known]
                if bad:
                    hints = []
                    for k in bad:
                        close = difflib.get_close_matches(str(k), t_known, n=1)
                        hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
                    raise SpecError(
                        f"unknown key(s) {', '.join(hints)} in treatment {t.get('column', t)!r}. "
                        f"Valid keys of a treatment: {', '.join(sorted(t_known))}."
                    )
            if not isinstance(t, dict) or "column" not in t or "control" not in t:
                raise SpecError(
                    f"each entry of `treatments` needs `column` and `control`, got {t!r}. "
                    "Example: {column: offer, control: none, assignment: observational}."
                )
            tr.append(Treatment(**t))
        d = {**d, "treatments": tr}
        return cls(**d)

    @classmethod
    def from_yaml(cls, path: str | Path) -> RoleSpec:
        path = Path(path)
        if not path.is_file():
            raise SpecError(
                f"spec file not found: '{path}'. Pass the path of a YAML role spec (see data/README.md)."
            )
        try:
            d = yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise SpecError(
                f"spec file '{path}' is not UTF-8 text (byte {e.object[e.start]:#04x} at offset "
                f"{e.start}); save it as UTF-8."
            ) from e
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise SpecError(
                f"spec file '{path}' is not valid YAML{where}: {getattr(e, 'problem', None) or e}. "
                "Check the indentation and the `key: value` syntax there."
            ) from e
        try:
            return cls.from_dict(d)
        except SpecError as e:
            raise SpecError(f"spec file '{path}': {e}") from e

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if d["satisfaction_scale"] is not None:
            d["satisfaction_scale"] = list(d["satisfaction_scale"])
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str)

    # -- look-ups --------------------------------------------------------------------------------
    def treatment(self, column: str | None = None) -> Treatment:
        """The treatment declared for ``column`` (the first one when ``column`` is None)."""
        if not self.treatments:
            raise SpecError(
                f"spec '{self.name}' declares no treatment. Add `treatments: [{{column: ..., control: ...}}]`."
            )
        if column is None:
            return self.treatments[0]
        for t in self.treatments:
            if t.column == column:
                return t
        raise SpecError(
            f"spec '{self.name}' has no treatment column '{column}'; declared: "
            f"{[t.column for t in self.treatments]}."
        )

    def roles(self) -> dict[str, Any]:
        """Role -> column(s) for the roles that are set."""
        out = {}
        for k in (
            "id",
            "tenure",
            "event",
            "churn_type",
            "churn_reason",
            "start_date",
            "satisfaction",
            "perceived_value",
            "segment",
            "revenue",
            "margin",
            "cltv",
            "referrals",
            "entry",
            "start",
        ):
            v = getattr(self, k)
            if v:
                out[k] = v
        if self.switching_costs:
            out["switching_costs"] = list(self.switching_costs)
        if self.treatments:
            out["treatments"] = [t.column for t in self.treatments]
        if self.covariates:
            out["covariates"] = list(self.covariates)
        return out

    def columns(self) -> list[str]:
        """Every column the spec names, once, in role order."""
        cols: list[str] = []
        for v in self.roles().values():
            for c in v if isinstance(v, list) else [v]:
                if c not in cols:
                    cols.append(c)
        return cols


def _one_of(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise SpecError(f"spec `{name}` must be one of {allowed}, got {value!r}.")
