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

TENURE_UNITS = ("days", "weeks", "months")
ASSIGNMENTS = ("randomised", "observational")
CHURN_TYPE_POLICIES = ("churned_only", "optional")
ZERO_TENURE_POLICIES = ("error", "keep", "exclude")
MISSING_POLICIES = ("error", "exclude")


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
    tenure_unit : {'days', 'weeks', 'months'}
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
    value_period: str = "month"
    covariates: list = field(default_factory=list)
    categorical: dict = field(default_factory=dict)
    zero_tenure: str = "error"
    missing_covariates: str = "error"
    absent_levels: str = "error"
    description: str = ""

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
            sc = tuple(self.satisfaction_scale)
            if len(sc) != 2 or not sc[0] < sc[1]:
                raise SpecError(
                    f"`satisfaction_scale` must be [low, high] with low < high, got {self.satisfaction_scale!r}."
                )
            self.satisfaction_scale = sc
        if isinstance(self.switching_costs, str):
            self.switching_costs = [self.switching_costs]
        if isinstance(self.covariates, str):
            self.covariates = [self.covariates]
        self.treatments = [
            t if isinstance(t, Treatment) else Treatment(**t) for t in self.treatments
        ]
        self.categorical = {str(k): list(v) for k, v in (self.categorical or {}).items()}

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
        for t in d.get("treatments") or []:
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
            d = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise SpecError(f"spec file '{path}' is not valid YAML: {e}") from e
        return cls.from_dict(d)

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
