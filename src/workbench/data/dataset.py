"""``Dataset``: the canonical frame, its role spec and a fingerprint of both."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from .schema import RoleSpec


@dataclass(eq=False)
class Dataset:
    """Canonical customer data.

    Attributes
    ----------
    frame : DataFrame
        One row per customer, validated and typed.
    spec : RoleSpec
        Which column plays which role.
    name : str
    truth : dict or None
        For simulated data: the true parameters and causal effects.
    exclusions : list of dict
        Rows excluded under the spec's policies (rule, column, n_rows, example ids).
    n_received : int
        Rows before exclusions.
    tenure_grid : dict or None
        The coarse grid tenure lies on (``step`` in the data's unit, ``step_name``, distinct
        ``values``), or None for fine-grained tenure; see :func:`workbench.data.units.detect_grid`.
    """

    frame: pd.DataFrame
    spec: RoleSpec
    name: str = "custom"
    truth: dict | None = None
    exclusions: list = field(default_factory=list)
    n_received: int = 0
    source: str = ""
    tenure_grid: dict | None = None

    @property
    def coarse_tenure(self) -> bool:
        """True when tenure lies on a coarse grid (``tenure_grid``)."""
        return self.tenure_grid is not None

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 (first 16 hex digits) of the frame's content and the spec."""
        h = hashlib.sha256()
        h.update(pd.util.hash_pandas_object(self.frame, index=False).to_numpy().tobytes())
        h.update(",".join(map(str, self.frame.columns)).encode())
        h.update(self.spec.to_json().encode())
        return h.hexdigest()[:16]

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def events(self) -> int:
        return int(self.frame[self.spec.event].sum())

    def describe(self) -> pd.DataFrame:
        """Counts, events, censoring, tenure range and roles found, as a two-column table."""
        f, s = self.frame, self.spec
        t = f[s.tenure]
        rows = [
            ("dataset", self.name),
            ("customers", f"{self.n:,}"),
            ("rows received", f"{self.n_received or self.n:,}"),
            ("rows excluded", f"{sum(e['n_rows'] for e in self.exclusions):,}"),
            ("churned (events)", f"{self.events:,}"),
            ("censored", f"{self.n - self.events:,} ({(self.n - self.events) / self.n:.1%})"),
            (
                f"tenure ({s.tenure_unit})",
                f"{t.min():.3g} to {t.max():.3g}, median {t.median():.3g}",
            ),
        ]
        if self.tenure_grid:
            g = self.tenure_grid
            rows.append(("tenure grid", f"{g['step_name']} ({g['n_distinct']} distinct values)"))
        if s.churn_type:
            counts = f[s.churn_type].value_counts()
            rows.append(("churn types", ", ".join(f"{k}: {v:,}" for k, v in counts.items())))
        for role, col in s.roles().items():
            rows.append((f"role: {role}", ", ".join(col) if isinstance(col, list) else col))
        rows.append(("fingerprint", self.fingerprint))
        return pd.DataFrame(rows, columns=["item", "value"])

    def __repr__(self) -> str:
        return f"<Dataset '{self.name}': {self.n:,} customers, {self.events:,} churned, fingerprint {self.fingerprint}>"
