"""Inputs and design matrices for the satisfaction / switching-cost hypotheses.

:func:`resolve_inputs` checks the columns (bad input gives a clear error), drops and counts rows with
missing values, and returns a :class:`DriverData`. :func:`build_design` turns it into a design
matrix with satisfaction as categories, linear or a natural (restricted) cubic spline, the
switching-cost index, the dissatisfaction x switching-cost interaction, perceived value and the
adjustment covariates.

Switching-cost index (documented construction)
----------------------------------------------
Each switching-cost variable is coded numerically: an ordered categorical (the spec's
``categorical`` levels, or a pandas ordered categorical) by its level codes 0, 1, ..., k-1 (an
ordinal assumption: e.g. month-to-month 0, one year 1, two year 2); a two-level text column as 0/1;
a numeric column as it is. Each coded variable is standardised (mean 0, SD 1) in the analysis
sample, the standardised variables are averaged with equal weights, and the average is
standardised again, so the index has mean 0 and SD 1 and its coefficients are "per SD of switching
cost". :attr:`DriverData.sc_construction` holds the table of codes, means, SDs and weights.

Interaction
-----------
``dissat_x_sc = (ref - satisfaction) * sc_index`` with ``ref`` the middle of the satisfaction
scale (3 on 1-5): "dissatisfaction" grows as satisfaction falls below the middle. H3 (the effect of
dissatisfaction is weaker where switching costs are high) predicts a *negative* log hazard ratio.

References
----------
Harrell, F. E. (2015). *Regression Modeling Strategies*, 2nd ed., Springer, section 2.4.5
(restricted cubic splines).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..columns import column_list, column_name, event_array, resolve_frame, tenure_array
from ..exceptions import (
    DataValidationError,
    ParameterError,
    RowsExcludedWarning,
    TooManyLevelsError,
)
from ..privacy import check_not_personal

SAT_FORMS = ("categorical", "linear", "spline")
MAX_LEVELS = 20


@dataclass
class DriverData:
    """The analysis sample and its roles, after checks and exclusions."""

    frame: pd.DataFrame
    duration_col: str
    event_col: str
    satisfaction_col: str
    scale: tuple
    ref_level: int
    levels: list
    switching_cost_cols: list
    perceived_value_col: str | None
    covariates: list
    cluster_col: str | None
    categorical: dict
    sc_index: np.ndarray = None
    sc_construction: pd.DataFrame = None
    n_received: int = 0
    exclusions: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    fingerprint: str | None = None
    time_unit: str = "months"

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def events(self) -> int:
        return int(self.frame[self.event_col].sum())

    def horizons(self, months) -> list:
        """Horizons given in months, in this sample's tenure unit and on its grid
        (:func:`workbench.drivers.outcomes.horizons_in_unit`); refused when none is inside follow-up."""
        from .outcomes import horizons_in_unit

        out = horizons_in_unit(months, self.time_unit, self.frame[self.duration_col])
        if not out:
            raise ParameterError(
                f"`horizon` {months!r} (months) is beyond the follow-up of these data (longest tenure "
                f"{self.frame[self.duration_col].max():g} {self.time_unit}); choose a shorter horizon."
            )
        return out

    @property
    def sat(self) -> np.ndarray:
        return self.frame[self.satisfaction_col].to_numpy(dtype=float)


def _warn(msg, cls, sink):
    warnings.warn(msg, cls, stacklevel=3)
    sink.append(msg)


def resolve_inputs(
    data,
    *,
    duration_col=None,
    event_col=None,
    satisfaction_col=None,
    switching_cost_cols=None,
    perceived_value_col=None,
    covariates=None,
    cluster_col=None,
    satisfaction_scale=None,
    max_levels: int = MAX_LEVELS,
) -> DriverData:
    """Check the columns and return the analysis sample (see module docstring).

    Column arguments default to the spec's roles (an empty string or list means "the role"); every
    name is checked to exist ("did you mean" for typos), a string where a list is expected is refused,
    columns declared personal (and the id) are refused (:func:`workbench.privacy.check_not_personal`),
    and a categorical covariate or switching cost with more than ``max_levels`` levels is refused
    before any model is fitted.

    Raises
    ------
    ParameterError
        A role is not given (and not in the spec) or names a column the data do not have
        (:class:`~workbench.exceptions.ColumnNotFoundError`), a list argument is a string
        (:class:`~workbench.exceptions.ColumnListError`), a personal column is named.
    TooManyLevelsError
        A categorical covariate / switching cost has more than ``max_levels`` levels.
    DataValidationError
        Satisfaction outside its declared scale, or a switching-cost variable with a single level.
    """
    func = "drivers"
    frame, spec = resolve_frame(data, func=func)

    def blank(v):  # a notebook parameter left empty means "the spec's role"
        return None if v is None or (isinstance(v, (str, list, tuple)) and len(v) == 0) else v

    duration_col = column_name(
        data, blank(duration_col), argument="duration_col", role="tenure", func=func
    )
    event_col = column_name(data, blank(event_col), argument="event_col", role="event", func=func)
    satisfaction_col = column_name(
        data,
        blank(satisfaction_col),
        argument="satisfaction_col",
        role="satisfaction",
        required=False,
        func=func,
    )
    if not satisfaction_col:
        raise ParameterError(
            "no satisfaction column: `satisfaction_col` was not given and the data's role spec has no "
            "'satisfaction' role. Pass satisfaction_col='<column>' (an ordinal score such as 1-5) or add "
            "`satisfaction:` to the spec; H1-H4 cannot be tested without it."
        )
    sc = column_list(
        data,
        blank(switching_cost_cols),
        argument="switching_cost_cols",
        role="switching_costs",
        func=func,
    )
    if not sc:
        raise ParameterError(
            "no switching-cost variables: pass switching_cost_cols=[...] (e.g. contract, number of "
            "products) or add `switching_costs:` to the role spec."
        )
    pv = column_name(
        data,
        blank(perceived_value_col),
        argument="perceived_value_col",
        role="perceived_value",
        required=False,
        func=func,
    )
    scale = satisfaction_scale or (spec.satisfaction_scale if spec else None)
    covariates = column_list(data, covariates, argument="covariates", role="covariates", func=func)
    cluster_col = column_name(
        data, blank(cluster_col), argument="cluster_col", required=False, func=func
    )
    for argument, cols in (
        ("satisfaction_col", [satisfaction_col]),
        ("switching_cost_cols", sc),
        ("perceived_value_col", [pv] if pv else []),
        ("covariates", covariates),
        ("cluster_col", [cluster_col] if cluster_col else []),
    ):
        check_not_personal(data, cols, argument=argument)
    covariates = [
        c for c in covariates if c not in {satisfaction_col, pv, duration_col, event_col, *sc}
    ]
    categorical = dict(spec.categorical) if spec else {}
    _check_levels(frame, [*sc, *covariates], categorical, max_levels)

    used = (
        [duration_col, event_col, satisfaction_col, *sc, *covariates]
        + ([pv] if pv else [])
        + ([cluster_col] if cluster_col else [])
    )
    df = frame[list(dict.fromkeys(used))].copy()
    df[duration_col] = tenure_array(df, duration_col, func=func)
    df[event_col] = event_array(df, event_col, func=func).astype(int)
    sink: list = []
    exclusions = []
    na = df.isna().any(axis=1).to_numpy()
    if na.any():
        counts = df.isna().sum()
        detail = ", ".join(f"{c}: {int(v):,}" for c, v in counts.items() if v)
        _warn(
            f"{int(na.sum()):,} of {len(df):,} customers excluded for missing values ({detail}).",
            RowsExcludedWarning,
            sink,
        )
        exclusions.append({"rule": "missing values", "n_rows": int(na.sum()), "columns": detail})
        df = df.loc[~na]

    sat = pd.to_numeric(df[satisfaction_col], errors="coerce")
    if sat.isna().any():
        raise DataValidationError(
            f"satisfaction column '{satisfaction_col}' must be numeric (an ordinal score); "
            f"{int(sat.isna().sum()):,} value(s) are not, e.g. {df[satisfaction_col][sat.isna()].head(3).tolist()}.",
            column=satisfaction_col,
            rule="numeric",
        )
    if scale is None:
        scale = (int(sat.min()), int(sat.max()))
    lo, hi = scale
    bad = (sat < lo) | (sat > hi) | (sat != np.round(sat))
    if bad.any():
        raise DataValidationError(
            f"satisfaction column '{satisfaction_col}' has {int(bad.sum()):,} value(s) outside its declared "
            f"scale [{lo}, {hi}] or not whole numbers (e.g. {sorted(sat[bad].unique().tolist())[:5]}). "
            "Fix the data, or declare the right scale with `satisfaction_scale` / the spec's "
            "`satisfaction_scale`.",
            column=satisfaction_col,
            rule="satisfaction scale",
            n_rows=int(bad.sum()),
        )
    df[satisfaction_col] = sat.astype(int)
    ref = int(round((lo + hi) / 2))
    levels = sorted(int(v) for v in df[satisfaction_col].unique())

    for col in sc:
        if df[col].nunique() < 2:
            raise DataValidationError(
                f"switching-cost variable '{col}' has a single level ({df[col].iloc[0]!r}) in the analysis "
                "sample: it cannot explain anything. Remove it from `switching_cost_cols` (or check the "
                "filter that made it constant).",
                column=col,
                rule="more than one level",
            )
    dd = DriverData(
        df,
        duration_col,
        event_col,
        satisfaction_col,
        (lo, hi),
        ref,
        levels,
        sc,
        pv,
        covariates,
        cluster_col,
        categorical,
        n_received=len(frame),
        exclusions=exclusions,
        warnings=sink,
        fingerprint=getattr(data, "fingerprint", None),
        time_unit=(spec.tenure_unit if spec is not None else None) or "months",
    )
    dd.sc_index, dd.sc_construction = switching_cost_index(df, sc, categorical)
    return dd


def _check_levels(frame: pd.DataFrame, columns: list, categorical: dict, max_levels: int) -> None:
    """Refuse a text / categorical column with more than ``max_levels`` levels (one indicator each):
    before any fit, since every level adds a parameter and, under Firth, a profile-likelihood search."""
    for c in columns:
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            continue
        k = int(s.nunique(dropna=True))
        if k > max_levels:
            raise TooManyLevelsError(
                f"drivers: column '{c}' has {k:,} levels, more than max_levels={max_levels}; each level "
                "would be a parameter of every model. Merge rare levels (or bin the column) into at most "
                f"{max_levels} groups, drop it from `covariates` / `switching_cost_cols`, or raise "
                "`max_levels`."
            )


def _code(series: pd.Series, levels: list | None):
    if levels:
        codes = pd.Categorical(series.astype(str), categories=[str(v) for v in levels]).codes
        if (codes < 0).any():
            raise DataValidationError(
                f"column '{series.name}' has values outside its declared levels {levels}: "
                f"{sorted(set(series.astype(str)) - {str(v) for v in levels})[:5]}.",
                column=str(series.name),
                rule="declared levels",
            )
        return codes.astype(
            float
        ), f"ordinal codes 0..{len(levels) - 1} ({', '.join(map(str, levels))})"
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = list(series.cat.categories)
        return series.cat.codes.to_numpy(
            dtype=float
        ), f"ordinal codes 0..{len(cats) - 1} ({', '.join(map(str, cats))})"
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float), "numeric as is"
    vals = sorted(series.astype(str).unique())
    if len(vals) == 2:
        return (series.astype(str) == vals[1]).to_numpy(dtype=float), f"0/1: {vals[1]!r} = 1"
    raise DataValidationError(
        f"switching-cost column '{series.name}' is text with {len(vals)} levels and no declared order; declare "
        "its levels (low to high switching cost) under `categorical:` in the role spec.",
        column=str(series.name),
        rule="ordered levels",
    )


def switching_cost_index(frame: pd.DataFrame, columns: list, categorical: dict | None = None):
    """Standardised switching-cost index (see module docstring) and the table of its construction."""
    categorical = categorical or {}
    zs, rows = [], []
    for col in columns:
        x, how = _code(frame[col], categorical.get(col))
        m, s = float(np.mean(x)), float(np.std(x))
        zs.append((x - m) / s)
        rows.append(
            {"variable": col, "coding": how, "mean": m, "sd": s, "weight": 1 / len(columns)}
        )
    raw = np.mean(zs, axis=0)
    idx = (raw - raw.mean()) / raw.std()
    return idx, pd.DataFrame(rows)


def _rcs_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted (natural) cubic spline basis without the linear term (Harrell 2015)."""
    k = len(knots)
    t = knots
    norm = (t[-1] - t[0]) ** 2
    cols = []

    def p3(v):
        return np.clip(v, 0, None) ** 3

    for j in range(k - 2):
        b = (
            p3(x - t[j])
            - p3(x - t[k - 2]) * (t[k - 1] - t[j]) / (t[k - 1] - t[k - 2])
            + p3(x - t[k - 1]) * (t[k - 2] - t[j]) / (t[k - 1] - t[k - 2])
        )
        cols.append(b / norm)
    return np.column_stack(cols)


def _dummies(frame: pd.DataFrame, col: str, levels: list | None):
    s = frame[col]
    if pd.api.types.is_bool_dtype(s) or (
        pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)
    ):
        return pd.DataFrame({col: s.to_numpy(dtype=float)}, index=frame.index), {col: (col, None)}
    cats = (
        [str(v) for v in levels]
        if levels
        else (
            [str(c) for c in s.cat.categories]
            if isinstance(s.dtype, pd.CategoricalDtype)
            else sorted(s.astype(str).unique())
        )
    )
    sv = s.astype(str)
    present = [c for c in cats if (sv == c).any()]
    out, info = {}, {}
    for c in present[1:]:
        name = f"{col}[{c}]"
        out[name] = (sv == c).to_numpy(dtype=float)
        info[name] = (col, c)
    return pd.DataFrame(out, index=frame.index), info


def build_design(
    dd: DriverData,
    *,
    satisfaction_form: str = "categorical",
    interaction: bool = False,
    perceived_value: bool = False,
    switching_costs: str = "index",
    spline_df: int = 3,
    covariates: bool = True,
    sat_override=None,
    sc_override=None,
):
    """Design matrix (no intercept) and its term groups.

    Returns ``(X, groups, term_info)``: ``groups`` maps 'satisfaction', 'switching_costs',
    'interaction', 'perceived_value', 'covariates' to lists of column names; ``term_info`` maps each
    column to ``(variable, level)`` (level ``None`` for numeric terms), used to name the source of a
    separation. ``sat_override`` / ``sc_override`` replace satisfaction / the index (predictions).
    """
    if satisfaction_form not in SAT_FORMS:
        raise ParameterError(
            f"`satisfaction_form` must be one of {SAT_FORMS}, got {satisfaction_form!r}."
        )
    if switching_costs not in ("index", "separate"):
        raise ParameterError(
            f"`switching_costs` must be 'index' or 'separate', got {switching_costs!r}."
        )
    f = dd.frame
    sat = (
        dd.sat
        if sat_override is None
        else np.broadcast_to(np.asarray(sat_override, float), (len(f),))
    )
    sci = (
        dd.sc_index
        if sc_override is None
        else np.broadcast_to(np.asarray(sc_override, float), (len(f),))
    )
    cols, groups, info = (
        {},
        {
            k: []
            for k in (
                "satisfaction",
                "switching_costs",
                "interaction",
                "perceived_value",
                "covariates",
            )
        },
        {},
    )
    s = dd.satisfaction_col
    if satisfaction_form == "categorical":
        for lvl in dd.levels:
            if lvl == dd.ref_level:
                continue
            name = f"sat_{lvl}"
            cols[name] = (sat == lvl).astype(float)
            info[name] = (s, lvl)
            groups["satisfaction"].append(name)
    else:
        cols["sat_linear"] = sat - dd.ref_level
        info["sat_linear"] = (s, None)
        groups["satisfaction"].append("sat_linear")
        if satisfaction_form == "spline":
            lo, hi = dd.scale
            knots = np.linspace(lo, hi, spline_df + 1)
            B = _rcs_basis(np.asarray(sat, float), knots)
            for j in range(B.shape[1]):
                name = f"sat_spline_{j + 1}"
                cols[name] = B[:, j]
                info[name] = (s, None)
                groups["satisfaction"].append(name)
    if switching_costs == "index":
        cols["sc_index"] = np.asarray(sci, float)
        info["sc_index"] = ("switching-cost index", None)
        groups["switching_costs"].append("sc_index")
    else:
        for col in dd.switching_cost_cols:
            x, _ = _code(f[col], dd.categorical.get(col))
            name = f"sc:{col}"
            cols[name] = (x - x.mean()) / x.std()
            info[name] = (col, None)
            groups["switching_costs"].append(name)
    if interaction:
        cols["dissat_x_sc"] = (dd.ref_level - np.asarray(sat, float)) * np.asarray(sci, float)
        info["dissat_x_sc"] = (f"{s} x switching-cost index", None)
        groups["interaction"].append("dissat_x_sc")
    if perceived_value and dd.perceived_value_col:
        pv = f[dd.perceived_value_col].to_numpy(dtype=float)
        cols["perceived_value"] = pv - pv.mean()
        info["perceived_value"] = (dd.perceived_value_col, None)
        groups["perceived_value"].append("perceived_value")
    X = pd.DataFrame(cols, index=f.index)
    if covariates:
        for c in dd.covariates:
            D, inf = _dummies(f, c, dd.categorical.get(c))
            X = pd.concat([X, D], axis=1)
            info.update(inf)
            groups["covariates"].extend(D.columns)
    # drop constant / duplicate columns among covariates only (never a hypothesis term)
    for c in list(groups["covariates"]):
        if X[c].std() == 0:
            X = X.drop(columns=c)
            groups["covariates"].remove(c)
    return X, groups, info
