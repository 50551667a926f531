"""How confounders enter the propensity and outcome models: a stated rule, chosen from the data.

The default (``specification="flexible"``) applies one rule to each confounder, read from the data
and never from a simulator's design:

* a category (text, boolean, pandas categorical) enters as indicator columns (reference: the first
  level, R's rule);
* a number with at most ``LOW_CARDINALITY`` (10) distinct values (an ordinal score, a count with few
  values) enters as categories, one per value, the sparse end values (each under 1% of the customers,
  at least 10) pooled into their neighbour (``n_complaints >= 3``), so thresholds anywhere on the
  scale are captured;
* any other number enters as a natural (restricted) cubic spline with ``df = round(m ** (1/5))``
  degrees of freedom (``m`` the size of the smallest arm), between 3 and 8, knots at equally
  spaced quantiles from the 5th to the 95th percentile (Harrell's placement);
* plus the pairwise products of the confounders' linear forms (indicators of a category, the
  standardised value of a number), so an effect of one confounder that differs across another's
  levels is captured, when the smallest arm has at least ``PER_COLUMN`` (20) customers per column
  of the model with them (otherwise the products are left out and the report says so);
* plus threshold terms kept by balance (:mod:`workbench.effects.refinement`, observational studies):
  the indicators ``x > q`` of each continuous confounder at its quantiles 2.5%, 5%, ..., 97.5%,
  over all customers and within each level of each categorical confounder, are candidates; after
  the propensity fit the candidate whose IPW-weighted mean differs most between the arms (largest
  ``|z|``) enters the model if that difference is significant at a family-wise 5% (Bonferroni over
  all candidates), and the search repeats, up to 3 terms per continuous confounder. A spline is
  smooth, so a confounder acting through a threshold (overall, or on some customers only) leaves
  the customers on either side of it unbalanced; these terms remove that imbalance. Both the
  propensity and the outcome models use them.

``"linear"`` enters every number as it is and every category as indicators (the textbook model,
kept for the specification check); ``"gbm"`` leaves the propensity to gradient boosting (see
:mod:`workbench.effects.propensity`) and uses the flexible design for the outcome model.

References
----------
Harrell, F. E. (2015). Regression Modeling Strategies, 2nd ed., section 2.4.5 (restricted cubic
splines, knot placement). Springer.
Hastie, T., Tibshirani, R. & Friedman, J. (2009). The Elements of Statistical Learning, 2nd ed.,
section 5.2.1 (natural cubic splines). Springer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import ParameterError

SPECIFICATIONS = ("flexible", "linear", "gbm")
LOW_CARDINALITY = 10  # numbers with at most this many distinct values are entered as categories
SPARSE_SHARE = 0.01  # end levels holding less than this share (and at least SPARSE_MIN) are pooled
SPARSE_MIN = 10
PER_COLUMN = (
    20  # interactions only with at least this many customers of the smallest arm per column
)


def check_specification(specification) -> str:
    if specification not in SPECIFICATIONS:
        raise ParameterError(
            f"`specification` must be one of {SPECIFICATIONS}, got {specification!r}. 'flexible' (the "
            "default) enters low-cardinality numbers as categories and continuous ones as natural splines "
            "with pairwise interactions; 'linear' enters numbers as they are; 'gbm' fits the propensity "
            "by gradient boosting with cross-fitting."
        )
    return specification


def spline_df(n: int) -> int:
    """Degrees of freedom of each continuous confounder's natural spline: ``n ** (1/5)``, in [3, 8]."""
    return int(min(8, max(3, round(n**0.2))))


@dataclass
class Term:
    """How one confounder enters: ``kind`` in {'category', 'levels', 'spline', 'linear'}."""

    column: str
    kind: str
    levels: list = field(default_factory=list)  # category / levels: the levels (first = reference)
    cuts: list = field(default_factory=list)  # levels: value -> level index (pooled ends)
    knots: np.ndarray | None = None  # spline knots
    center: float = 0.0
    scale: float = 1.0

    def describe(self) -> str:
        if self.kind == "category":
            return f"{self.column} as categories (reference {self.levels[0]!s})"
        if self.kind == "levels":
            return (
                f"{self.column} as categories {', '.join(map(str, self.levels))} (a number with few "
                f"distinct values; reference {self.levels[0]})"
            )
        if self.kind == "spline":
            k = ", ".join(f"{v:.4g}" for v in self.knots)
            return (
                f"{self.column} as a natural cubic spline with {len(self.knots) - 1} df (knots {k})"
            )
        return f"{self.column} linearly"


@dataclass
class Step:
    """A threshold term: ``column > cut``, within one level of ``by`` when given (kept by balance)."""

    column: str
    cut: float
    by: str | None = None
    level: str | None = None  # the level's label (for words and names)
    by_kind: str = ""  # 'category' or 'levels'
    by_cuts: list = field(default_factory=list)  # levels: cut points of the number's levels
    by_index: int = 0  # levels: the level's index

    def name(self) -> str:
        head = f"{self.column}>{self.cut:.6g}"
        return head if self.by is None else f"{head}:{self.by}[{self.level}]"

    def describe(self) -> str:
        head = f"{self.column} > {self.cut:.4g}"
        return head if self.by is None else f"{head} when {self.by} is {self.level}"

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        v = frame[self.column].to_numpy(dtype=float) > self.cut
        if self.by is not None:
            v &= by_mask(frame[self.by], self.by_kind, self.level, self.by_cuts, self.by_index)
        return v


def by_mask(s: pd.Series, kind: str, level, cuts: list, index: int) -> np.ndarray:
    """Rows of one level of a categorical confounder (a category, or a number's pooled level)."""
    if kind == "levels":
        return _level_index(s.to_numpy(dtype=float), cuts) == index
    return s.astype(str).to_numpy() == str(level)


@dataclass
class Specification:
    """A fitted rule: the terms, the interaction pairs, and :meth:`design` for any frame."""

    name: str
    terms: list[Term]
    interactions: list[tuple[str, str]]
    dropped_interactions: list[tuple[str, str]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)  # threshold terms kept by the balance rule
    refined: str = ""  # the balance rule's status: "ran", "no room", ... ("" not applied)

    def n_columns(self, frame: pd.DataFrame) -> int:
        """Columns of the design (intercept included)."""
        return self.design(frame)[0].shape[1]

    def describe(self) -> str:
        """The specification in words, for the report."""
        if not self.terms:
            return "no confounders"
        parts = "; ".join(t.describe() for t in self.terms)
        inter = ""
        if self.interactions:
            pairs = ", ".join(f"{a} x {b}" for a, b, *_ in self.interactions)
            inter = f"; pairwise products of the linear forms ({pairs})"
        elif self.dropped_interactions:
            inter = (
                f"; no pairwise products (the smallest arm has fewer than {PER_COLUMN} customers per "
                "model column with them)"
            )
        if self.steps:
            inter += (
                "; threshold terms kept by the balance rule ("
                + ", ".join(st.describe() for st in self.steps)
                + ")"
            )
        elif self.refined == "ran":
            inter += "; the balance rule found no threshold term left unbalanced"
        elif self.refined == "no room":
            inter += (
                f"; no threshold terms searched (the smallest arm has fewer than {PER_COLUMN} "
                "customers per model column with one more)"
            )
        head = {
            "flexible": "Flexible specification (the default rule: categories for categorical and "
            f"low-cardinality numbers, at most {LOW_CARDINALITY} distinct values; natural splines for "
            "continuous numbers; pairwise interactions; in observational studies, threshold terms of "
            "continuous numbers, overall or within a category, added while the weights leave them "
            "unbalanced)",
            "linear": "Linear specification (numbers as they are, categories as indicators)",
            "gbm": "Gradient-boosting propensity (cross-fitted); outcome model with the flexible rule",
        }.get(self.name, self.name)
        return f"{head}: {parts}{inter}."

    def _widths(self) -> tuple[list[int], dict[str, int], dict[str, int]]:
        """Main-effect width of each term, and the width of its linear and full (basis) forms."""
        width, lin, full = [], {}, {}
        for t in self.terms:
            k = {"category": len(t.levels) - 1, "levels": len(t.levels) - 1, "linear": 1}.get(
                t.kind, len(t.knots) - 1 if t.knots is not None else 1
            )
            width.append(k)
            lin[t.column] = k if t.kind == "category" else 1
            full[t.column] = k
        return width, lin, full

    def pairs(self) -> list[tuple[str, str, str, str]]:
        """Interactions as ``(a, b, form_a, form_b)``, each form 'linear' or 'basis'."""
        return [
            tuple(p) if len(p) == 4 else (p[0], p[1], "linear", "linear") for p in self.interactions
        ]

    def design(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Model matrix with an intercept column first, and the column names.

        Filled in place into one ``n x p`` array (no list of blocks stacked at the end), so the
        peak memory is the matrix itself plus one column block.
        """
        n = len(frame)
        width, lin, full = self._widths()
        size = {"linear": lin, "basis": full}
        pairs = self.pairs()
        p = 1 + sum(width) + sum(size[fa][a] * size[fb][b] for a, b, fa, fb in pairs)
        p += len(self.steps)
        X = np.empty((n, p))
        X[:, 0] = 1.0
        names = ["Intercept"]
        blocks: dict[str, tuple[int, int, list[str]]] = {}  # column -> (start, width, names)
        linear: dict[str, tuple[int, int, list[str]]] = {}
        j = 1
        for t, k in zip(self.terms, width):
            s = frame[t.column]
            if t.kind == "category":
                vals = s.astype(str).to_numpy()
                for i, lv in enumerate(t.levels[1:]):
                    X[:, j + i] = vals == str(lv)
                bn = [f"{t.column}[{lv}]" for lv in t.levels[1:]]
                linear[t.column] = (j, k, bn)
            elif t.kind == "levels":
                idx = _level_index(s.to_numpy(dtype=float), t.cuts)
                for i in range(1, len(t.levels)):
                    X[:, j + i - 1] = idx == i
                bn = [f"{t.column}[{lv}]" for lv in t.levels[1:]]
                linear[t.column] = (-1, 1, [t.column])  # its standardised value, made below
            elif t.kind == "spline":
                X[:, j : j + k] = natural_spline(
                    s.to_numpy(dtype=float), t.knots, t.center, t.scale
                )
                bn = [t.column] + [f"ns({t.column})[{i}]" for i in range(1, k)]
                linear[t.column] = (j, 1, [t.column])
            else:
                X[:, j] = (s.to_numpy(dtype=float) - t.center) / t.scale
                bn = [t.column]
                linear[t.column] = (j, 1, bn)
            blocks[t.column] = (j, k, bn)
            names += bn
            j += k

        def form(c, how):
            start, k, nm = (linear if how == "linear" else blocks)[c]
            if start >= 0:
                return X[:, start : start + k], nm
            t = next(t for t in self.terms if t.column == c)
            return ((frame[c].to_numpy(dtype=float) - t.center) / t.scale)[:, None], nm

        for a, b, fa, fb in pairs:
            (xa, na), (xb, nb) = form(a, fa), form(b, fb)
            for i in range(xa.shape[1]):
                for m in range(xb.shape[1]):
                    np.multiply(xa[:, i], xb[:, m], out=X[:, j])
                    names.append(f"{na[i]}:{nb[m]}")
                    j += 1
        for st in self.steps:
            X[:, j] = st.values(frame)
            names.append(st.name())
            j += 1
        return X, names


def _level_index(x: np.ndarray, cuts: list) -> np.ndarray:
    """Level of each value: the number of cut points at or below it (cuts ascending)."""
    return np.searchsorted(np.asarray(cuts, dtype=float), x, side="right")


def _pooled_levels(values: pd.Series, n: int) -> tuple[list, list]:
    """Distinct values with sparse end values pooled inward: (labels, cuts)."""
    counts = values.value_counts().sort_index()
    vals = [float(v) for v in counts.index]
    cnt = [int(c) for c in counts.to_numpy()]
    floor = max(SPARSE_SHARE * n, SPARSE_MIN)
    groups = [[v] for v in vals]
    gcount = list(cnt)
    while len(groups) > 2 and gcount[-1] < floor:  # pool the top into its neighbour
        top, ntop = groups.pop(), gcount.pop()
        groups[-1] = groups[-1] + top
        gcount[-1] = gcount[-1] + ntop
    while len(groups) > 2 and gcount[0] < floor:  # pool the bottom into its neighbour
        low, nlow = groups.pop(0), gcount.pop(0)
        groups[0] = low + groups[0]
        gcount[0] = gcount[0] + nlow
    labels = []
    for k, g in enumerate(groups):
        lo, hi = min(g), max(g)
        if lo == hi:
            labels.append(f"{lo:g}")
        elif k == len(groups) - 1:
            labels.append(f">={lo:g}")
        elif k == 0:
            labels.append(f"<={hi:g}")
        else:
            labels.append(f"{lo:g}-{hi:g}")
    cuts = [min(g) for g in groups[1:]]
    return labels, cuts


def natural_spline(x: np.ndarray, knots: np.ndarray, center: float, scale: float) -> np.ndarray:
    """Restricted (natural) cubic spline basis: the standardised value, then ``len(knots) - 2`` terms.

    Harrell's parameterisation, each non-linear term divided by ``(t_K - t_1)^2``; the fit is linear
    beyond the outer knots.
    """
    t = np.asarray(knots, dtype=float)
    k = len(t)
    out = np.empty((len(x), k - 1))
    out[:, 0] = (x - center) / scale
    norm = (t[-1] - t[0]) ** 2

    def cube(u):
        return np.maximum(u, 0.0) ** 3

    last, before = t[-1], t[-2]
    tail_last = cube(x - last)
    tail_before = cube(x - before)
    for j in range(k - 2):
        out[:, j + 1] = (
            cube(x - t[j])
            - tail_before * (last - t[j]) / (last - before)
            + tail_last * (before - t[j]) / (last - before)
        ) / norm
    return out


def _is_category(s: pd.Series) -> bool:
    return (
        pd.api.types.is_bool_dtype(s)
        or isinstance(s.dtype, pd.CategoricalDtype)
        or not pd.api.types.is_numeric_dtype(s)
    )


def choose_specification(
    frame: pd.DataFrame,
    confounders: list[str],
    name: str = "flexible",
    *,
    splines: list[str] | None = None,
    interactions: list | None = None,
    df: int | None = None,
    min_arm: int | None = None,
) -> Specification:
    """Apply the stated rule (module docstring) to ``frame``'s confounders.

    ``splines`` / ``interactions`` add natural splines / products to the ``"linear"`` specification
    (the user's own choices); the flexible rule already has both.
    """
    check_specification(name)
    n = len(frame)
    m = int(min_arm) if min_arm else n  # the smallest arm bounds how much a model can learn
    terms = []
    for c in confounders:
        s = frame[c]
        if _is_category(s):
            levels = (
                [lv for lv in s.cat.categories if (s == lv).any()]
                if isinstance(s.dtype, pd.CategoricalDtype)
                else sorted(s.astype(str).unique())
            )
            terms.append(Term(c, "category", levels=[str(v) for v in levels]))
            continue
        x = s.to_numpy(dtype=float)
        center, scale = float(x.mean()), float(x.std()) or 1.0
        nuniq = s.nunique()
        flexible = name in ("flexible", "gbm")
        if flexible and nuniq <= LOW_CARDINALITY:
            labels, cuts = _pooled_levels(s, n)
            terms.append(Term(c, "levels", levels=labels, cuts=cuts, center=center, scale=scale))
        elif flexible or c in (splines or []):
            k = int(df) if df else spline_df(m)
            probs = np.linspace(0.05, 0.95, k + 1)
            knots = np.unique(np.quantile(x, probs))
            if len(knots) >= 3:
                terms.append(Term(c, "spline", knots=knots, center=center, scale=scale))
            else:
                terms.append(Term(c, "linear", center=center, scale=scale))
        else:  # as it is: coefficients per unit of the column
            terms.append(Term(c, "linear"))
    if name in ("flexible", "gbm"):
        pairs = [(a, b) for i, a in enumerate(confounders) for b in confounders[i + 1 :]]
        spec = Specification(name, terms, pairs)
        p_with = spec.n_columns(frame.head(2000))
        if m < PER_COLUMN * p_with:  # too few customers in the smallest arm for the products
            spec = Specification(name, terms, [], dropped_interactions=pairs)
        return spec
    return Specification(name, terms, [tuple(p) for p in (interactions or [])])
