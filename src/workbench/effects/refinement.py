"""Balance-driven refinement of the flexible specification: threshold terms the weights leave unbalanced.

A natural spline is smooth, so a confounder that acts through a threshold (a price point, a tenure
cut-off), or through a threshold on some customers only, is fitted with an error concentrated near
the threshold; inverse-probability weights built on that fit leave the customers on either side of
it unbalanced, and both IPW and AIPW (whose outcome model shares the design) keep part of the
confounding bias. The rule below looks for that imbalance in the data and adds the terms that
remove it, never reading how the data were made:

* candidates: for each continuous confounder (one entered as a spline) the indicators
  ``x > q`` at its quantiles ``q`` of 2.5%, 5%, ..., 97.5%, over all customers and within each
  level of each categorical confounder (a category, or a number with few values);
* the propensity model is fitted, the IPW weights formed, and the weighted mean difference of every
  candidate between the arms is turned into a z statistic (:func:`~workbench.effects.balance.
  weighted_difference_z`, weights held fixed);
* the candidate with the largest ``|z|`` enters the model if ``|z|`` exceeds the Bonferroni critical
  value over all candidates (family-wise level 5%), then the model is refitted and the search
  repeated, up to ``STEPS_PER_CONFOUNDER`` (3) terms per continuous confounder and while the
  smallest arm keeps ``PER_COLUMN`` customers per model column;
* candidates held by fewer than ``SPARSE_MIN`` customers of either side of any arm-vs-control pair (on either side of the cut)
  are not considered; beyond ``MAX_ROWS`` (100,000) customers the search runs on a fixed random
  subsample of that size (the terms then enter the model fitted on everybody).

The terms kept are part of the design of the propensity and the outcome models, and are stated in
words in the report. The bootstrap holds them fixed (it refits the coefficients, not the search).

References
----------
Imai, K. & Ratkovic, M. (2014). Covariate balancing propensity score. JRSS B 76, 243-263 (balance
as the check of a propensity model). Rosenbaum, P. R. & Rubin, D. B. (1984). Reducing bias in
observational studies using subclassification on the propensity score. JASA 79, 516-524 (refining
the model until the covariates balance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .balance import weighted_difference_z
from .propensity import fit_logistic_irls
from .specification import PER_COLUMN, SPARSE_MIN, Specification, Step, by_mask
from .weights import balancing_weights

STEPS_PER_CONFOUNDER = 3
QUANTILES = np.arange(1, 40) / 40  # 2.5%, 5%, ..., 97.5%
FAMILY_ALPHA = 0.05
MAX_ROWS = 100_000


def _candidates(spec: Specification, frame: pd.DataFrame) -> list[tuple[Step, np.ndarray]]:
    """Candidate groups: (template step without a cut, cut points) per continuous x subgroup."""
    groups = []
    bys = [t for t in spec.terms if t.kind in ("category", "levels")]
    for t in spec.terms:
        if t.kind != "spline":
            continue
        x = frame[t.column].to_numpy(dtype=float)
        cuts = np.unique(np.quantile(x, QUANTILES))
        cuts = cuts[cuts < x.max()]
        groups.append((Step(t.column, np.nan), cuts))
        for b in bys:
            for k, lv in enumerate(b.levels):
                tmpl = Step(
                    t.column,
                    np.nan,
                    by=b.column,
                    level=str(lv),
                    by_kind=b.kind,
                    by_cuts=list(b.cuts),
                    by_index=k,
                )
                groups.append((tmpl, cuts))
    return groups


def balance_steps(
    spec: Specification,
    frame: pd.DataFrame,
    arms: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    min_arm: int,
    seed: int = 0,
) -> tuple[list[Step], str]:
    """Threshold terms kept by the balance rule (module docstring), and whether it ran.

    The status is ``"ran"``, ``"no continuous confounder"`` or ``"no room"`` (the smallest arm has
    fewer than ``PER_COLUMN`` customers per model column with one more term).

    ``arms`` maps each arm to ``(rows, treated)``: a boolean mask of ``frame``'s rows in the
    arm-vs-control model and the 0/1 arm indicator of those rows.
    """
    n_spline = sum(t.kind == "spline" for t in spec.terms)
    if not n_spline:
        return [], "no continuous confounder"
    rng = np.random.default_rng(seed)
    n = len(frame)
    keep = np.sort(rng.choice(n, MAX_ROWS, replace=False)) if n > MAX_ROWS else np.arange(n)
    sub = frame.iloc[keep]
    X, _ = spec.design(sub)
    budget = min(STEPS_PER_CONFOUNDER * n_spline, int(min_arm // PER_COLUMN) - X.shape[1])
    if budget <= 0:
        return [], "no room"
    groups = _candidates(spec, sub)
    # per arm: the subsample rows in its arm-vs-control model and their 0/1 arm indicator
    masks = {}
    for a, (rows, t) in arms.items():
        rows = np.asarray(rows, dtype=bool)
        t_full = np.zeros(n)
        t_full[rows] = np.asarray(t, dtype=float)
        masks[a] = (rows[keep], t_full[keep][rows[keep]])
    values = {
        id(tmpl): (
            sub[tmpl.column].to_numpy(dtype=float),
            None
            if tmpl.by is None
            else by_mask(sub[tmpl.by], tmpl.by_kind, tmpl.level, tmpl.by_cuts, tmpl.by_index),
        )
        for tmpl, _ in groups
    }
    # a cut enters every arm's model, so it must leave SPARSE_MIN customers of both sides of every
    # arm-vs-control pair on both sides of it (else the term separates some arm: propensity 0 / 1)
    usable = {}
    for tmpl, cuts in groups:
        x, g = values[id(tmpl)]
        ok = np.ones(len(cuts), dtype=bool)
        for rows, t in masks.values():
            V = x[rows][:, None] > cuts[None, :]
            if g is not None:
                V &= g[rows][:, None]
            on1, on0 = V[t == 1].sum(axis=0), V[t == 0].sum(axis=0)
            n1, n0 = int((t == 1).sum()), int((t == 0).sum())
            ok &= (np.minimum(on1, n1 - on1) >= SPARSE_MIN) & (
                np.minimum(on0, n0 - on0) >= SPARSE_MIN
            )
        usable[id(tmpl)] = ok
    n_cand = sum(len(c) for _, c in groups) * len(masks)
    crit = stats.norm.ppf(1 - FAMILY_ALPHA / (2 * max(n_cand, 1)))
    chosen: list[Step] = []
    cols: list[np.ndarray] = []
    beta = {a: None for a in masks}
    for _ in range(budget):
        Xc = np.column_stack([X] + cols) if cols else X
        best = (0.0, None)
        for a, (rows, t) in masks.items():
            Xa = Xc[rows]
            b0 = beta[a]
            if b0 is not None and len(b0) < Xa.shape[1]:
                b0 = np.r_[b0, np.zeros(Xa.shape[1] - len(b0))]
            beta[a] = fit_logistic_irls(Xa, t, start=b0, max_iter=50, tol=1e-8)
            e = 1.0 / (1.0 + np.exp(-np.clip(Xa @ beta[a], -30, 30)))
            w = balancing_weights(e, t, "ipw")
            for tmpl, cuts in groups:
                x, g = values[id(tmpl)]
                V = x[rows][:, None] > cuts[None, :]
                if g is not None:
                    V &= g[rows][:, None]
                ok = usable[id(tmpl)]
                if not ok.any():
                    continue
                z = np.zeros(len(cuts))
                z[ok] = weighted_difference_z(V[:, ok].astype(float), t, w)
                for k in np.argsort(-np.abs(z))[:3]:
                    step = Step(**{**tmpl.__dict__, "cut": float(cuts[k])})
                    if abs(z[k]) > abs(best[0]) and step.name() not in {s.name() for s in chosen}:
                        best = (float(z[k]), step)
                        break
        if best[1] is None or abs(best[0]) <= crit:
            break
        chosen.append(best[1])
        cols.append(best[1].values(sub).astype(float))
    return chosen, "ran"


__all__ = ["balance_steps", "STEPS_PER_CONFOUNDER"]
