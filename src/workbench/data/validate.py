"""Validation: a raw frame + role spec in, the canonical frame out, or a clear error.

Each rule is a small ``check_*`` function that raises :class:`DataValidationError` naming the
column and the rule, the number of offending rows, the first few customer ids, and the fix.
:func:`validate` runs them all and converts types (event -> int 0/1, tenure -> float, declared
categoricals -> ordered levels, start date -> datetime). Rows are never dropped silently: an
exclusion allowed by the spec's policy is counted, warned about (``RowsExcludedWarning``) and
listed in ``Dataset.exclusions``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, DataValidationError, RowsExcludedWarning
from .dataset import Dataset
from .plausibility import (
    COUNT_COLUMNS,
    check_count_or_flag,
    check_rows_left,
    check_start_plus_tenure,
    check_tenure_plausible,
    coarse_tenure,
    tenure_from_timedelta,
)
from .schema import RoleSpec

N_EXAMPLES = 5


def _examples(df: pd.DataFrame, mask, id_col: str | None) -> list:
    idx = np.flatnonzero(np.asarray(mask))[:N_EXAMPLES]
    if id_col and id_col in df.columns:
        return df[id_col].iloc[idx].tolist()
    return [int(i) for i in idx]


def _rows(mask) -> str:
    """The first offending rows as 1-based data-row numbers (customer ids stay out of messages)."""
    idx = np.flatnonzero(np.asarray(mask))[:N_EXAMPLES] + 1
    return ", ".join(str(int(i)) for i in idx)


def _fail(df, mask, *, column, rule, problem, fix, id_col) -> None:
    n = int(np.asarray(mask).sum())
    ex = _examples(df, mask, id_col)
    raise DataValidationError(
        f"column '{column}' fails rule '{rule}': {n:,} row(s) {problem} (first rows: {_rows(mask)}; "
        f"row 1 is the first data row). {fix}",
        column=column,
        rule=rule,
        n_rows=n,
        examples=ex,
    )


def check_columns_present(df: pd.DataFrame, spec: RoleSpec) -> None:
    """Every column the spec names exists in ``df``."""
    missing = [c for c in spec.columns() if c not in df.columns]
    if missing:
        import difflib

        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, [str(x) for x in df.columns], n=1)
            hints.append(f"'{c}'" + (f" (closest column: '{close[0]}')" if close else ""))
        raise DataValidationError(
            f"rule 'required columns present': the spec names column(s) {', '.join(hints)} that the "
            f"data do not have. Columns received: {list(df.columns)[:30]}. Fix the column names in the "
            "spec or rename the data's columns.",
            column=missing[0],
            rule="required columns present",
            n_rows=len(df),
        )


def check_ids_unique(df: pd.DataFrame, id_col: str) -> None:
    s = df[id_col]
    if s.isna().any():
        _fail(
            df,
            s.isna(),
            column=id_col,
            rule="ids present",
            problem="have no customer id",
            fix="Every customer needs an id; fill or remove these rows before validating.",
            id_col=None,
        )
    dup = s.duplicated(keep=False)
    if dup.any():
        _fail(
            df,
            dup,
            column=id_col,
            rule="ids unique",
            problem="share their id with another row",
            fix="The workbench expects one row per customer; aggregate repeated rows first.",
            id_col=id_col,
        )


def check_tenure(
    df: pd.DataFrame, col: str, *, id_col: str, zero_policy: str = "error", unit: str = "months"
) -> pd.Series:
    """Tenure is numeric, finite, not negative and plausible for ``unit``; zero only under the
    spec's ``zero_tenure`` policy. Durations (timedelta) are converted to ``unit``."""
    s = df[col]
    if pd.api.types.is_timedelta64_dtype(s):
        s = tenure_from_timedelta(s, col, unit)
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna()
        if bad.any():
            _fail(
                df,
                bad,
                column=col,
                rule="tenure numeric",
                problem=f"are not numbers (e.g. {s[bad].iloc[0]!r})",
                fix="Tenure must be a number of days, weeks or months; convert it before validating.",
                id_col=id_col,
            )
        s = num
    s = s.astype(float)
    if s.isna().any():
        _fail(
            df,
            s.isna(),
            column=col,
            rule="tenure present",
            problem="have no tenure",
            fix="Every customer needs a tenure; for customers still active use time since joining.",
            id_col=id_col,
        )
    inf = ~np.isfinite(s.to_numpy())
    if inf.any():
        _fail(
            df,
            inf,
            column=col,
            rule="tenure finite",
            problem="have infinite tenure",
            fix="Replace infinite tenure by the observed follow-up time (censored).",
            id_col=id_col,
        )
    neg = s < 0
    if neg.any():
        _fail(
            df,
            neg,
            column=col,
            rule="tenure not negative",
            problem="have negative tenure",
            fix="Check the start and end dates of these customers.",
            id_col=id_col,
        )
    zero = s == 0
    if zero.any() and zero_policy == "error":
        _fail(
            df,
            zero,
            column=col,
            rule="tenure positive",
            problem="have tenure 0",
            fix="Set `zero_tenure: keep` (kept as is) or `zero_tenure: exclude` (counted and reported) "
            "in the spec if zero tenure is genuine, or correct the data.",
            id_col=id_col,
        )
    check_tenure_plausible(s, col, unit)
    return s


def check_entry(df: pd.DataFrame, col: str, tenure: pd.Series, *, id_col: str) -> pd.Series:
    """Delayed entry: numeric, complete, >= 0 and at or before the customer's tenure (exit)."""
    v = pd.to_numeric(df[col], errors="coerce")
    bad = v.isna().to_numpy() | (v < 0).to_numpy()
    if bad.any():
        _fail(
            df,
            bad,
            column=col,
            rule="entry is a tenure >= 0",
            problem="have a missing, non-numeric or negative entry",
            fix="Entry is the tenure at which observation began; use 0 for customers observed "
            "from joining.",
            id_col=id_col,
        )
    after = (v > tenure).to_numpy()
    if after.any():
        _fail(
            df,
            after,
            column=col,
            rule="entry <= exit",
            problem="enter observation after they leave (entry > tenure)",
            fix="Check which column holds which time; entry must be at or before tenure.",
            id_col=id_col,
        )
    return v.astype(float)


def check_intervals(df: pd.DataFrame, col: str, stop: pd.Series, *, id_col: str) -> pd.Series:
    """Counting-process rows: ``start < stop`` on every row and no overlap within a customer."""
    v = pd.to_numeric(df[col], errors="coerce")
    bad = v.isna().to_numpy() | ~(v < stop).to_numpy()
    if bad.any():
        _fail(
            df,
            bad,
            column=col,
            rule="start < stop",
            problem="have a missing start or a start at or after the row's end",
            fix="Each row covers (start, stop] with start < stop; drop zero-length rows.",
            id_col=id_col,
        )
    order = np.lexsort((v.to_numpy(), df[id_col].to_numpy()))
    ids, st, sp = df[id_col].to_numpy()[order], v.to_numpy()[order], stop.to_numpy()[order]
    ov = np.zeros(len(df), dtype=bool)
    ov[order[1:]] = (ids[1:] == ids[:-1]) & (st[1:] < sp[:-1])
    if ov.any():
        _fail(
            df,
            ov,
            column=col,
            rule="intervals do not overlap",
            problem="start before the previous interval of the same customer ends",
            fix="Rebuild the rows with workbench.data.events.build_intervals, which cuts "
            "spells at event times without overlaps.",
            id_col=id_col,
        )
    return v.astype(float)


def check_event(df: pd.DataFrame, col: str, *, id_col: str) -> pd.Series:
    """Churned is 0/1 or boolean (also 'yes'/'no', 'true'/'false')."""
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(int)
    mapping = {"1": 1, "0": 0, "yes": 1, "no": 0, "true": 1, "false": 0, "1.0": 1, "0.0": 0}
    if pd.api.types.is_numeric_dtype(s):
        ok = s.isin([0, 1])
        if not ok.all():
            _fail(
                df,
                ~ok,
                column=col,
                rule="event is 0/1",
                problem=f"are not 0 or 1 (values seen: {sorted(pd.unique(s[~ok]).tolist())[:5]})",
                fix="Code churned as 1 and still active (censored) as 0.",
                id_col=id_col,
            )
        return s.astype(int)
    low = s.astype(str).str.strip().str.lower()
    ok = low.isin(mapping.keys())
    if not ok.all():
        _fail(
            df,
            ~ok,
            column=col,
            rule="event is 0/1",
            problem=f"are not 0/1 or yes/no (values seen: {sorted(pd.unique(s[~ok].astype(str)).tolist())[:5]})",
            fix="Code churned as 1 and still active (censored) as 0.",
            id_col=id_col,
        )
    return low.map(mapping).astype(int)


def _given(s: pd.Series) -> pd.Series:
    """True where ``s`` holds a value that is not missing and not blank (checked on unique values)."""
    blank = [v for v in pd.unique(s.dropna()) if isinstance(v, str) and not v.strip()]
    return s.notna() & ~s.isin(blank) if blank else s.notna()


def check_churn_type(
    df: pd.DataFrame, col: str, event: pd.Series, *, id_col: str, policy: str
) -> None:
    """Churn type is given for churned rows (``churned_only``: exactly for them)."""
    given = _given(df[col])
    missing = (event == 1) & ~given
    if missing.any() and policy == "churned_only":
        _fail(
            df,
            missing,
            column=col,
            rule="churn type given for churned",
            problem="churned without a churn type",
            fix="Give each churner's cause, or set `churn_type_policy: optional` in the spec.",
            id_col=id_col,
        )
    extra = (event == 0) & given
    if extra.any() and policy == "churned_only":
        _fail(
            df,
            extra,
            column=col,
            rule="churn type only for churned",
            problem="have a churn type but did not churn",
            fix="Blank the cause of customers still active, or check the event column.",
            id_col=id_col,
        )


def check_satisfaction(
    df: pd.DataFrame, col: str, scale: tuple | None, *, id_col: str
) -> pd.Series:
    s = pd.to_numeric(df[col], errors="coerce")
    bad_type = s.isna() & df[col].notna()
    if bad_type.any():
        _fail(
            df,
            bad_type,
            column=col,
            rule="satisfaction numeric",
            problem=f"are not numbers (e.g. {df[col][bad_type].iloc[0]!r})",
            fix="Satisfaction must be a number on the declared scale.",
            id_col=id_col,
        )
    if scale is not None:
        lo, hi = scale
        out = s.notna() & ((s < lo) | (s > hi))
        if out.any():
            _fail(
                df,
                out,
                column=col,
                rule="satisfaction within scale",
                problem=f"lie outside the declared scale [{lo}, {hi}] (e.g. {s[out].iloc[0]})",
                fix="Correct these values or declare the right `satisfaction_scale` in the spec.",
                id_col=id_col,
            )
    return s


def check_treatment(df: pd.DataFrame, treatment, *, id_col: str) -> None:
    col = treatment.column
    arms = pd.unique(df[col].dropna())
    if len(arms) < 2:
        raise DataValidationError(
            f"column '{col}' fails rule 'treatment has two arms': found {len(arms)} arm(s) {list(arms)}. "
            "A treatment needs a control arm and at least one other arm; check the column or the spec.",
            column=col,
            rule="treatment has two arms",
            n_rows=len(df),
        )
    if not any(_same(a, treatment.control) for a in arms):
        raise DataValidationError(
            f"column '{col}' fails rule 'control arm exists': control arm {treatment.control!r} does not "
            f"occur; arms found: {sorted(map(str, arms))}. Set `control:` in the spec to one of them.",
            column=col,
            rule="control arm exists",
            n_rows=0,
        )
    if treatment.arms:
        unknown = [a for a in arms if not any(_same(a, b) for b in treatment.arms)]
        if unknown:
            mask = df[col].isin(unknown)
            _fail(
                df,
                mask,
                column=col,
                rule="treatment arms declared",
                problem=f"have arm(s) {sorted(map(str, unknown))} not declared in the spec's arms {treatment.arms}",
                fix="Add the arms to the spec or correct the data.",
                id_col=id_col,
            )


def _same(a, b) -> bool:
    return str(a) == str(b)


def check_levels(
    df: pd.DataFrame, col: str, levels: list, *, id_col: str, absent: str = "error"
) -> pd.Categorical:
    """Levels in the data are declared, and declared levels occur (unless ``absent='drop'``).

    Compares on the string form of the unique values, so 1 and "1" are the same level.
    """
    s = df[col]
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    ustr = [str(u) for u in uniques]
    declared = [str(x) for x in levels]
    unknown_u = [u for u in ustr if u not in declared]
    if unknown_u:
        bad_codes = [i for i, u in enumerate(ustr) if u not in declared]
        mask = np.isin(codes, bad_codes)
        _fail(
            df,
            mask,
            column=col,
            rule="categorical levels declared",
            problem=f"have level(s) {sorted(unknown_u)[:5]} not declared ({levels})",
            fix="Add the level to `categorical` in the spec or recode the data.",
            id_col=id_col,
        )
    seen = set(ustr)
    missing_levels = [lvl for lvl in levels if str(lvl) not in seen]
    if missing_levels and absent == "error":
        raise DataValidationError(
            f"column '{col}' fails rule 'declared levels exist': level(s) {missing_levels} declared in the "
            f"spec do not occur in the data (levels seen: {sorted(seen)}). Remove them from `categorical`, "
            "check the data, or set `absent_levels: drop` in the spec for a subset of a larger data set.",
            column=col,
            rule="declared levels exist",
            n_rows=0,
        )
    if missing_levels:
        warnings.warn(
            f"column '{col}': declared level(s) {missing_levels} do not occur and were dropped "
            "(absent_levels: drop).",
            DataQualityWarning,
            stacklevel=3,
        )
    categories = [d for d in declared if d in seen]
    lookup = np.array([categories.index(u) for u in ustr] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(lookup[codes], categories=categories)


def validate(
    df: pd.DataFrame, spec: RoleSpec, *, name: str | None = None, source: str = ""
) -> Dataset:
    """Check ``df`` against ``spec`` and return the canonical :class:`Dataset`.

    Raises
    ------
    DataValidationError
        Naming the column and rule, the number of offending rows, the first rows (never customer ids), the fix.

    Examples
    --------
    >>> from workbench.data import simulate, synthetic_spec
    >>> frame, truth = simulate(500, seed=1)
    >>> ds = validate(frame, synthetic_spec())
    >>> ds.n, bool(ds.frame["churned"].isin([0, 1]).all())
    (500, True)
    """
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"validate() needs a pandas DataFrame, got {type(df).__name__}.")
    if len(df) == 0:
        raise DataValidationError(
            "the data have no rows; check the file or the query that produced them."
        )
    check_columns_present(df, spec)
    id_col = spec.id
    if not spec.start:  # the counting-process layout repeats ids (one row per interval)
        check_ids_unique(df, id_col)
    out = df.copy(deep=False)  # columns are replaced whole, never changed in place
    exclusions: list[dict] = []

    out[spec.tenure] = check_tenure(
        df, spec.tenure, id_col=id_col, zero_policy=spec.zero_tenure, unit=spec.tenure_unit
    )
    out[spec.event] = check_event(df, spec.event, id_col=id_col)
    if spec.entry:
        out[spec.entry] = check_entry(df, spec.entry, out[spec.tenure], id_col=id_col)
    if spec.start:
        out[spec.start] = check_intervals(df, spec.start, out[spec.tenure], id_col=id_col)
    if spec.churn_type:
        check_churn_type(
            df, spec.churn_type, out[spec.event], id_col=id_col, policy=spec.churn_type_policy
        )
        ct = out[spec.churn_type]
        out[spec.churn_type] = ct.where(_given(ct), None)
    if spec.satisfaction:
        out[spec.satisfaction] = check_satisfaction(
            df, spec.satisfaction, spec.satisfaction_scale, id_col=id_col
        )
    for t in spec.treatments:
        check_treatment(df, t, id_col=id_col)
    for col, levels in spec.categorical.items():
        if col not in df.columns:
            raise DataValidationError(
                f"spec `categorical` names column '{col}' which the data do not have; "
                f"columns received: {list(df.columns)[:30]}. Fix the name under `categorical` "
                "in the spec, or remove that entry.",
                column=col,
                rule="required columns present",
            )
        out[col] = check_levels(df, col, levels, id_col=id_col, absent=spec.absent_levels)
    if spec.start_date:
        d = pd.to_datetime(df[spec.start_date], errors="coerce", format="mixed")
        bad = d.isna() & df[spec.start_date].notna()
        if bad.any():
            _fail(
                df,
                bad,
                column=spec.start_date,
                rule="start date parses",
                problem=f"are not dates (e.g. {df[spec.start_date][bad].iloc[0]!r})",
                fix="Write dates as YYYY-MM-DD.",
                id_col=id_col,
            )
        out[spec.start_date] = d
        check_start_plus_tenure(
            d,
            out[spec.tenure],
            unit=spec.tenure_unit,
            analysis_date=spec.analysis_date,
            col=spec.tenure,
            start_col=spec.start_date,
        )
    for col in dict.fromkeys(
        [c for c in (spec.referrals, *COUNT_COLUMNS) if c and c in df.columns]
    ):
        out[col] = check_count_or_flag(df, col)
    for col in (spec.revenue, spec.margin):
        if col:
            v = pd.to_numeric(df[col], errors="coerce")
            bad = v.isna() & df[col].notna()
            if bad.any():
                _fail(
                    df,
                    bad,
                    column=col,
                    rule="value numeric",
                    problem="are not numbers",
                    fix="Revenue and margin must be amounts per period.",
                    id_col=id_col,
                )
            out[col] = v

    # exclusions allowed by policy: counted, warned, listed
    keep = np.ones(len(out), dtype=bool)
    if spec.zero_tenure == "exclude":
        z = (out[spec.tenure] == 0).to_numpy()
        if z.any():
            exclusions.append(
                {
                    "rule": "tenure 0 (zero_tenure: exclude)",
                    "column": spec.tenure,
                    "n_rows": int(z.sum()),
                    "examples": _examples(out, z, id_col),
                }
            )
            keep &= ~z
    elif spec.zero_tenure == "keep":
        nz = int((out[spec.tenure] == 0).sum())
        if nz:
            warnings.warn(
                f"{nz:,} customers have tenure 0 and are kept (zero_tenure: keep).",
                DataQualityWarning,
                stacklevel=2,
            )
    cov_cols = [
        c
        for c in dict.fromkeys(list(spec.covariates) + list(spec.switching_costs))
        if c in out.columns
    ]
    if cov_cols:
        miss = out[cov_cols].isna()
        if miss.any().any():
            if spec.missing_covariates == "error":
                col = miss.sum().idxmax()
                _fail(
                    out,
                    miss[col],
                    column=col,
                    rule="covariate present",
                    problem="have a missing value",
                    fix="Impute or remove these values, or set `missing_covariates: exclude` in the spec "
                    "to exclude such customers (they are counted and reported).",
                    id_col=id_col,
                )
            rows = miss.any(axis=1).to_numpy()
            per_col = {c: int(v) for c, v in miss.sum().items() if v}
            exclusions.append(
                {
                    "rule": "missing covariate (missing_covariates: exclude)",
                    "column": ", ".join(per_col),
                    "n_rows": int(rows.sum()),
                    "per_column": per_col,
                    "examples": _examples(out, rows, id_col),
                }
            )
            keep &= ~rows
    if not keep.all():
        for e in exclusions:
            warnings.warn(
                f"{e['n_rows']:,} customers excluded: {e['rule']} in column(s) {e['column']}.",
                RowsExcludedWarning,
                stacklevel=2,
            )
        out = out.loc[keep]
    check_rows_left(len(df), len(out), exclusions)
    out = out.reset_index(drop=True)
    grid = coarse_tenure(out[spec.tenure], spec.tenure, spec.tenure_unit)
    return Dataset(
        frame=out,
        spec=spec,
        name=name or spec.name,
        exclusions=exclusions,
        n_received=len(df),
        source=source,
        tenure_grid=grid,
    )
