"""Notebook 04 on any data: the study from the spec's roles, or an unavailable study that says why.

:func:`declare_study` takes the treatment from the spec's treatment role and the confounders from
the baseline roles present in the data (the spec's covariates, satisfaction and switching costs),
never from another data set's column names. Data without a treatment role give an
:class:`UnavailableStudy`: every stage returns an empty result whose caveat names the role that would
enable it, so the rest of a report (win-back, planning) still runs.
"""

from __future__ import annotations

import functools
import warnings

import pandas as pd

from ..columns import check_alpha
from ..data import Dataset
from ..exceptions import UnavailableWarning
from ..findings import HEADLINE, Finding
from ..results import standard_meta

NO_TREATMENT = (
    "intervention effects are not estimated: the data have no treatment role. Declare the "
    "intervention column under `treatments:` in the spec (column, control arm, assignment "
    "randomised / observational), or pass the notebook parameter `treatment_col`."
)


def default_confounders(data, treatment_col: str | None = None) -> list[str]:
    """Baseline roles present in the data: the spec's covariates, satisfaction, switching costs.

    The treatment columns, the id, the tenure / event columns and personal columns are left out.
    """
    if not isinstance(data, Dataset):
        return []
    spec, frame = data.spec, data.frame
    roles = list(spec.covariates) + [spec.satisfaction] + list(spec.switching_costs)
    skip = {spec.id, spec.tenure, spec.event, treatment_col, *(t.column for t in spec.treatments)}
    skip |= set(getattr(spec, "personal", None) or [])
    out = [c for c in roles if c and c in frame.columns and c not in skip]
    return list(dict.fromkeys(out))


def declare_study(data, *, treatment_col: str | None = None, confounders=None, **kwargs):
    """An :class:`~workbench.effects.InterventionStudy` from the roles, or an :class:`UnavailableStudy`.

    ``treatment_col`` empty: the spec's first treatment; ``confounders`` empty: the baseline roles
    (:func:`default_confounders`). Other keywords go to the study (empty strings mean "from the
    spec").
    """
    from .design import InterventionStudy

    spec = data.spec if isinstance(data, Dataset) else None
    if not treatment_col and (spec is None or not spec.treatments):
        return UnavailableStudy(NO_TREATMENT, data=data, alpha=kwargs.get("alpha", 0.05))
    treatment_col = treatment_col or spec.treatment(None).column
    constant: list[str] = []
    if confounders in (None, "", []):
        confounders = default_confounders(data, treatment_col)
        frame = data.frame if isinstance(data, Dataset) else data
        if treatment_col in frame.columns:  # roles that do not vary among the treated/control rows
            rows = frame[treatment_col].notna()
            constant = [c for c in confounders if frame.loc[rows, c].nunique(dropna=True) < 2]
            confounders = [c for c in confounders if c not in constant]
    kwargs = {k: (None if v == "" else v) for k, v in kwargs.items()}
    study = InterventionStudy(data, treatment_col=treatment_col, confounders=confounders, **kwargs)
    study.constant_roles_ = constant
    return study


def _empty(result_cls, reason: str, meta: dict | None = None, **tables):
    """An empty result saying why; ``meta``: the contract keys of the data it was not run on."""
    m = dict(meta or standard_meta(alpha=None, method="not estimated"))
    m.update(available=False, reason=reason)
    return result_cls(pd.DataFrame(), m, tables=tables, warnings=[reason])


class UnavailableStudy:
    """A study that cannot be run on these data; every stage returns an empty result saying why."""

    available = False
    treatment_col = None
    control_label_ = None
    design = None
    confounders: list = []

    def __init__(self, reason: str, *, data=None, alpha: float | None = 0.05):
        self.reason = reason
        # the result contract's meta of every empty stage: the data (n, fingerprint, exclusions)
        # and the alpha the notebook passed, so nothing says "95%" at another level
        self.meta_ = standard_meta(
            data,
            alpha=None if alpha is None else check_alpha(alpha),
            method="not estimated (no treatment)",
        )
        self.arms_: list = []
        self.n_excluded_ = 0
        self.frame_ = pd.DataFrame()
        warnings.warn(reason, UnavailableWarning, stacklevel=3)

    def _result(self, cls_name: str, **tables):
        from . import design, estimation

        cls = getattr(design, cls_name, None) or getattr(estimation, cls_name)
        return _empty(cls, self.reason, self.meta_, **tables)

    def check(self):
        return self._result("DesignCheckResult")

    def weights(self, *a, **k):
        return self._result("WeightsResult")

    def balance(self, *a, **k):
        from .balance import BalanceResult

        return _empty(BalanceResult, self.reason, self.meta_)

    def estimate(self, *a, **k):
        return self._result("EffectResult", curves=pd.DataFrame())

    def specification_check(self, *a, **k):
        return self._result("SpecificationCheckResult")

    def describe(self):
        from ..plotting.effects import Sentence

        return Sentence(self.reason[0].upper() + self.reason[1:])

    def record(self) -> dict:
        return {"available": False, "reason": self.reason}

    def __repr__(self) -> str:
        return f"<UnavailableStudy: {self.reason}>"


def is_unavailable(obj) -> bool:
    """True for an :class:`UnavailableStudy` or an empty result made by one."""
    if isinstance(obj, UnavailableStudy):
        return True
    meta = getattr(obj, "meta", None)
    return isinstance(meta, dict) and meta.get("available") is False


def passes_unavailable(result_cls, **tables):
    """Decorator: called on an unavailable study / result, return an empty ``result_cls`` instead."""

    def wrap(func):
        @functools.wraps(func)
        def inner(first, *args, **kwargs):
            if is_unavailable(first):
                reason = getattr(first, "reason", None) or first.meta.get("reason")
                meta = getattr(first, "meta_", None) or first.meta
                return _empty(result_cls, reason, meta, **{k: v() for k, v in tables.items()})
            return func(first, *args, **kwargs)

        return inner

    return wrap


def unavailable_findings(effects) -> list[Finding] | None:
    """The one finding of an unavailable study (its reason), or None."""
    if not is_unavailable(effects):
        return None
    return [Finding(effects.meta["reason"], importance=HEADLINE, kind="caveat")]
