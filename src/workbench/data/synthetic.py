"""The built-in synthetic customer base, which knows its own truth.

``simulate(n_customers, seed, **knobs) -> (frame, truth)`` draws a contractual customer base modelled
on the domain brief (``../shared/guide/domain.md``):

* customers join over ``history_months`` calendar months (more recently more of them) and are
  censored at ``analysis_date``;
* five competing churn causes (competitive, price, service_fault, natural, involuntary), each with
  its own baseline hazard over tenure and its own covariate effects. The all-cause baseline is not
  monotone: an early-months peak (onboarding faults, early non-payment), renewal peaks at 12 and 24
  months and a bump around 16 months (competitive offers at contract ends / after promotions);
* satisfaction 1-5 with a non-linear effect (the level effects are not on a line), switching costs
  (contract, bundle size) that lower the hazard and weaken the effect of dissatisfaction
  (interaction ``dissat_x_sc``), perceived value that carries part of satisfaction's effect,
  complaints and how fast they were handled;
* monthly charge and margin; a randomised retention offer in the consumer segment; an
  observational loyalty programme that targets riskier customers (confounded); a win-back
  campaign among churners randomised to contact; a 0-100 health score and its indicators.

Every cause-specific hazard is proportional in the covariates of :func:`true_design`:
``h_k(t | x) = h0_k(t) * exp(x @ beta_k)`` with ``h0_k`` piecewise constant by month. So a
cause-specific Cox model with the design of :func:`true_design` is correctly specified and
recovers ``truth['log_hr'][cause]``.

``truth`` holds the knobs, the cause-specific log hazard ratios, the interaction, the baseline
hazards, the satisfaction -> perceived value path, and the true causal effects of both
interventions, computed from both potential outcomes of the same simulated customers: for every
customer the true survival curve with and without the intervention, averaged over the study
population (survival difference at 6, 12, 24 months, RMST difference up to 24 months).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..config import DAYS_PER_MONTH
from ..exceptions import ParameterError
from ._synthetic_params import (  # noqa: F401  (re-exported: the design of the built-in base)
    _LOG_HR,
    _SAT_TERMS,
    _THRESHOLD_LOG_HR,
    ANALYSIS_DATE,
    CAUSES,
    CHARGE_THRESHOLD,
    CONTRACTS,
    HORIZONS,
    PAYMENT,
    REGIONS,
    SC_WEIGHTS,
    SEGMENTS,
    TARGETINGS,
    TAU,
    TERMS,
    VOLUNTARY,
)


def _bump(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def baseline_hazards(max_months: int, scale: float = 1.0) -> np.ndarray:
    """Monthly baseline hazard of each cause (rows: CAUSES; column m: month [m, m+1)).

    Evaluated at the month's midpoint; constant within the month. ``scale`` multiplies all.
    """
    t = np.arange(max_months) + 0.5
    comp = (
        0.008
        + 0.020 * _bump(t, 12.0, 0.8)
        + 0.012 * _bump(t, 24.0, 0.8)
        + 0.007 * _bump(t, 16.0, 2.0)
    )
    price = 0.004 + 0.003 * (t > 12)
    fault = 0.003 + 0.016 * np.exp(-t / 3.0)
    natural = np.full_like(t, 0.0015)
    invol = 0.0008 + 0.010 * np.exp(-t / 4.0)
    return scale * np.vstack([comp, price, fault, natural, invol])


def _is(frame: pd.DataFrame, col: str, value: str) -> np.ndarray:
    """Fast ``frame[col] == value`` as float (categoricals compared through their codes)."""
    s = frame[col]
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = list(s.cat.categories)
        if value not in cats:
            return np.zeros(len(s))
        return (s.cat.codes.to_numpy() == cats.index(value)).astype(float)
    return (s.to_numpy() == value).astype(float)


def true_design(frame: pd.DataFrame, *, loyalty: Any = None, offer: Any = None) -> pd.DataFrame:
    """The design matrix of the true linear predictors, columns ``TERMS``.

    ``loyalty`` / ``offer`` override the intervention columns (0/1 or arrays) to evaluate potential
    outcomes; by default the observed values are used (customers outside the offer experiment
    count as not offered).
    """
    f = frame
    sat = f["satisfaction"].to_numpy(dtype=float)
    n_prod = f["n_products"].to_numpy(dtype=float)
    one, two = _is(f, "contract", "one_year"), _is(f, "contract", "two_year")
    n = len(f)
    d = {
        "sat_1": (sat == 1).astype(float),
        "sat_2": (sat == 2).astype(float),
        "sat_4": (sat == 4).astype(float),
        "sat_5": (sat == 5).astype(float),
        "contract_one_year": one,
        "contract_two_year": two,
        "n_products_c": n_prod - 2.0,
        "charge_10": (f["monthly_charge"].to_numpy(dtype=float) - 70.0) / 10.0,
        "perceived_value_c": f["perceived_value"].to_numpy(dtype=float) - 5.0,
        "age_10": (f["age"].to_numpy(dtype=float) - 45.0) / 10.0,
        "n_complaints": f["n_complaints"].to_numpy(dtype=float),
        "segment_small_business": _is(f, "segment", "small_business"),
        "segment_enterprise": _is(f, "segment", "enterprise"),
        "electronic_check": _is(f, "payment_method", "electronic_check"),
        "dissat_x_sc": (3.0 - sat)
        * (
            SC_WEIGHTS["contract_one_year"] * one
            + SC_WEIGHTS["contract_two_year"] * two
            + SC_WEIGHTS["n_products_minus_1"] * (n_prod - 1.0)
        ),
        "loyalty_programme": (
            _is(f, "loyalty_programme", "member")
            if loyalty is None
            else np.broadcast_to(np.asarray(loyalty, dtype=float), n).copy()
        ),
        "retention_offer": (
            _is(f, "retention_offer", "offer")
            if offer is None
            else np.broadcast_to(np.asarray(offer, dtype=float), n).copy()
        ),
        # a threshold that bites twice as hard on month-to-month contracts (targeting="threshold")
        "charge_threshold": (f["monthly_charge"].to_numpy(dtype=float) > CHARGE_THRESHOLD)
        * (1.0 + _is(f, "contract", "month_to_month")),
    }
    return pd.DataFrame(d, index=f.index)[list(TERMS)]


def switching_cost_score(frame: pd.DataFrame) -> np.ndarray:
    """The true switching-cost score: one_year 1, two_year 2, plus 0.5 per product beyond the first."""
    return (
        SC_WEIGHTS["contract_one_year"] * _is(frame, "contract", "one_year")
        + SC_WEIGHTS["contract_two_year"] * _is(frame, "contract", "two_year")
        + SC_WEIGHTS["n_products_minus_1"] * (frame["n_products"].to_numpy(dtype=float) - 1.0)
    )


def _beta_matrix(truth: dict) -> np.ndarray:
    return np.array([[truth["log_hr"][c][t] for c in CAUSES] for t in TERMS])


def _risk(frame: pd.DataFrame, truth: dict, **kw) -> np.ndarray:
    """Relative hazard of every cause, n x K."""
    return np.exp(true_design(frame, **kw).to_numpy() @ _beta_matrix(truth))


def _survival_from_risk(risk: np.ndarray, base: np.ndarray, times: np.ndarray) -> np.ndarray:
    M = base.shape[1]
    if times.max() > M:
        raise ParameterError(
            f"times up to {times.max()} exceed the simulated horizon of {M} months."
        )
    cum = np.hstack([np.zeros((base.shape[0], 1)), np.cumsum(base, axis=1)])  # K x (M+1)
    grid = np.arange(M + 1, dtype=float)
    Hk = np.vstack([np.interp(times, grid, cum[k]) for k in range(base.shape[0])])  # K x T
    return np.exp(-(risk @ Hk))


def _rmst_from_risk(risk: np.ndarray, base: np.ndarray, tau: float) -> np.ndarray:
    """Exact RMST under piecewise-constant hazards: each month adds (S_start - S_end) / rate."""
    full = int(math.floor(tau))
    widths = np.ones(full)
    if tau > full:
        widths = np.append(widths, tau - full)
    rates = risk @ base[:, : len(widths)]  # n x J, all rates > 0 (every baseline is positive)
    S = np.exp(-np.cumsum(rates * widths, axis=1))
    S_start = np.hstack([np.ones((len(S), 1)), S[:, :-1]])
    return ((S_start - S) / rates).sum(axis=1)


def true_survival(
    frame: pd.DataFrame, times, truth: dict, *, loyalty: Any = None, offer: Any = None
) -> np.ndarray:
    """True all-cause survival ``S_i(t)`` of every customer at ``times`` (months), n x len(times).

    Uses the customers' covariates and the true hazards; ``loyalty`` / ``offer`` set the
    interventions for potential outcomes (see :func:`true_design`).
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    risk = _risk(frame, truth, loyalty=loyalty, offer=offer)
    return _survival_from_risk(risk, np.asarray(truth["baseline_hazard"]), times)


def true_rmst(frame: pd.DataFrame, tau: float, truth: dict, **kw) -> np.ndarray:
    """True restricted mean survival time up to ``tau`` months of every customer (exact integral)."""
    return _rmst_from_risk(_risk(frame, truth, **kw), np.asarray(truth["baseline_hazard"]), tau)


def _effects(
    frame: pd.DataFrame,
    truth: dict,
    column: str,
    population: np.ndarray,
    chunk: int = 200_000,
    weights: np.ndarray | None = None,
) -> dict:
    """Mean over ``population`` of both potential outcomes' true survival and RMST (in chunks);
    ``weights`` (one per customer) make it a weighted mean (e.g. the overlap population)."""
    base = np.asarray(truth["baseline_hazard"])
    idx = np.flatnonzero(population)
    wts = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    hz = np.asarray(HORIZONS, dtype=float)
    sums = {a: np.zeros(len(HORIZONS)) for a in (0, 1)}
    rsum = {0: 0.0, 1: 0.0}
    for start in range(0, len(idx), chunk):
        rows = idx[start : start + chunk]
        sub, w = frame.iloc[rows], wts[rows]
        for a in (0, 1):
            risk = _risk(sub, truth, **{column: float(a)})
            sums[a] += w @ _survival_from_risk(risk, base, hz)
            rsum[a] += float(w @ _rmst_from_risk(risk, base, TAU))
    n = max(float(wts[idx].sum()), 1e-300) if len(idx) else 1
    s = {a: sums[a] / n for a in (0, 1)}
    out = {f"survival_difference_{h}": float(s[1][j] - s[0][j]) for j, h in enumerate(HORIZONS)}
    out.update({f"survival_treated_{h}": float(s[1][j]) for j, h in enumerate(HORIZONS)})
    out.update({f"survival_control_{h}": float(s[0][j]) for j, h in enumerate(HORIZONS)})
    out[f"rmst_difference_{TAU}"] = (rsum[1] - rsum[0]) / n
    out["n"] = int(len(idx))
    return out


def simulate(
    n_customers: int = 20_000,
    seed: int = 0,
    *,
    history_months: int = 72,
    analysis_date: str = ANALYSIS_DATE,
    hazard_scale: float = 1.0,
    satisfaction_effect: float = 1.0,
    interaction: float | None = None,
    offer_effect: float | None = None,
    loyalty_effect: float | None = None,
    confounding: float = 1.0,
    offer_share: float = 0.5,
    competing_risks: bool = True,
    tenure_unit: str = "months",
    targeting: str = "risk",
) -> tuple[pd.DataFrame, dict]:
    """Simulate a customer base and return ``(frame, truth)``; deterministic for a seed.

    Parameters
    ----------
    n_customers : int
    seed : int
    history_months : int
        Customers join over this many months before ``analysis_date`` (maximum follow-up).
    hazard_scale : float
        Multiplies every baseline hazard (higher: more churn).
    satisfaction_effect : float
        Multiplies every effect of satisfaction (level effects, interaction, path to perceived
        value). ``0`` removes every path between satisfaction and churn: satisfaction is then
        drawn independently of everything else (a null variant for testing H1).
    interaction : float, optional
        Log hazard ratio of ``dissat_x_sc`` for the competitive cause (price and fault keep their
        ratio to it). Default -0.15.
    offer_effect, loyalty_effect : float, optional
        Log hazard ratio of the retention offer / loyalty programme on the competitive cause
        (price keeps its ratio). Defaults -0.40 and -0.30.
    confounding : float
        Strength of the loyalty programme's targeting of risky customers (0: random assignment).
    offer_share : float
        Share of consumer-segment customers randomised to the offer.
    competing_risks : bool
        ``False`` folds the five causes into one cause ``voluntary`` with the competitive cause's
        effects and the sum of the baselines (one proportional-hazards model, for clean tests).
    tenure_unit : {'months', 'days'}
        ``'days'`` reports tenure as whole days (ties), ``'months'`` as months to 1e-4.
    targeting : {'risk', 'threshold'}
        How the loyalty programme picks customers. ``'risk'``: month-to-month contracts, higher
        charges (linearly), any complaint, satisfaction <= 2, younger customers. ``'threshold'``:
        the linear charge term is replaced by ``charge_threshold`` (monthly charge above 85, twice
        as strong on month-to-month contracts), which also raises the competitive and price hazards
        (log HR 0.5): a continuous confounder acting through a threshold and an interaction.

    Returns
    -------
    frame : DataFrame
        One row per customer (see ``data/README.md`` for the columns).
    truth : dict

    Examples
    --------
    >>> frame, truth = simulate(1_000, seed=3)
    >>> len(frame), sorted(truth["log_hr"]) == sorted(CAUSES)
    (1000, True)
    """
    _check_positive_int("n_customers", n_customers)
    check_seed(seed)
    if tenure_unit not in ("months", "days"):
        raise ParameterError(f"`tenure_unit` must be 'months' or 'days', got {tenure_unit!r}.")
    if not 0 < offer_share < 1:
        raise ParameterError(f"`offer_share` must be in (0, 1), got {offer_share!r}.")
    if targeting not in TARGETINGS:
        raise ParameterError(f"`targeting` must be one of {TARGETINGS}, got {targeting!r}.")
    try:
        pd.Timestamp(analysis_date)
    except (ValueError, TypeError) as e:
        raise ParameterError(
            f"`analysis_date` must be a date such as '2025-12-31', got {analysis_date!r}."
        ) from e
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    M = history_months + 1

    truth_log_hr = {c: {t: _LOG_HR[t][k] for t in TERMS} for k, c in enumerate(CAUSES)}
    for c in CAUSES:
        for t in _SAT_TERMS + ("dissat_x_sc",):
            truth_log_hr[c][t] *= satisfaction_effect
    if interaction is not None:
        ratio = {c: _LOG_HR["dissat_x_sc"][k] / -0.15 for k, c in enumerate(CAUSES)}
        for c in CAUSES:
            truth_log_hr[c]["dissat_x_sc"] = interaction * ratio[c] * (satisfaction_effect != 0)
    for term, eff in (("retention_offer", offer_effect), ("loyalty_programme", loyalty_effect)):
        if eff is not None:
            base_c = _LOG_HR[term][0]
            for k, c in enumerate(CAUSES):
                truth_log_hr[c][term] = eff * _LOG_HR[term][k] / base_c
    if targeting == "threshold":
        for c, v in _THRESHOLD_LOG_HR.items():
            truth_log_hr[c]["charge_threshold"] = v
    if not competing_risks:
        truth_log_hr = {c: dict(truth_log_hr["competitive"]) for c in CAUSES}
    base = baseline_hazards(M, hazard_scale)

    # --- customers -------------------------------------------------------------------------------
    segment = rng.choice(len(SEGMENTS), size=n, p=[0.6, 0.3, 0.1])
    region = rng.choice(len(REGIONS), size=n)
    age = np.clip(rng.normal(45 + 3 * (segment > 0), 13, size=n), 18, 85).round()
    gender = rng.choice(np.array(["female", "male"]), size=n)
    p_contract = np.array([[0.60, 0.22, 0.18], [0.45, 0.30, 0.25], [0.25, 0.35, 0.40]])[segment]
    u = rng.random(n)
    contract = (u > p_contract[:, 0]).astype(int) + (u > p_contract[:, 0] + p_contract[:, 1])
    n_products = 1 + rng.binomial(4, 0.3 + 0.1 * (segment > 0), size=n)
    payment = rng.choice(len(PAYMENT), size=n, p=[0.35, 0.35, 0.30])
    charge = np.clip(
        25 + 15 * n_products + np.array([0, 10, 30])[segment] + rng.normal(0, 8, n), 15, None
    ).round(2)
    margin = (charge * np.array([0.30, 0.35, 0.40])[segment]).round(2)

    n_complaints = rng.poisson(0.25 + 0.08 * n_products)
    resolution_days = np.where(n_complaints > 0, rng.gamma(2.0, 3.0, n).round(1), np.nan)
    slow = (resolution_days > 7).astype(float)
    if satisfaction_effect != 0:
        latent = (
            rng.normal(0, 1, n)
            - 0.45 * n_complaints
            - 0.5 * np.nan_to_num(slow)
            + 0.1 * (segment == 2)
        )
    else:
        latent = rng.normal(0, 1, n)
    satisfaction = 1 + np.searchsorted(np.array([-1.75, -1.05, 0.0, 0.85]), latent)
    perceived_value = (
        5
        + 0.6 * satisfaction_effect * (satisfaction - 3)
        - 0.03 * (charge - 70)
        + rng.normal(0, 1, n)
    ).round(1)

    # --- interventions ---------------------------------------------------------------------------
    consumer = segment == 0
    offer = np.where(consumer, np.where(rng.random(n) < offer_share, "offer", "control"), None)
    if satisfaction_effect != 0:
        sat_risk = 0.35 * (satisfaction <= 2)
    else:
        sat_risk = 0.0
    if targeting == "threshold":
        charge_term = 0.9 * (charge > CHARGE_THRESHOLD) * (1.0 + (contract == 0))
    else:
        charge_term = 0.25 * (charge - 70) / 10
    logit = -1.3 + confounding * (
        0.9 * (contract == 0)
        + charge_term
        + 0.4 * (n_complaints > 0)
        + sat_risk
        - 0.2 * (age - 45) / 10
    )
    p_loyal = 1 / (1 + np.exp(-logit))
    loyalty = np.where(rng.random(n) < p_loyal, "member", "none")

    frame = pd.DataFrame(
        {
            "customer_id": np.char.add(
                "SYN-", np.char.zfill(np.arange(1, n + 1).astype(str), 7)
            ).astype(object),
            "segment": pd.Categorical(np.array(SEGMENTS)[segment], categories=SEGMENTS),
            "region": np.array(REGIONS)[region],
            "age": age.astype(int),
            "gender": gender,
            "contract": pd.Categorical(np.array(CONTRACTS)[contract], categories=CONTRACTS),
            "n_products": n_products.astype(int),
            "payment_method": np.array(PAYMENT)[payment],
            "monthly_charge": charge,
            "monthly_margin": margin,
            "n_complaints": n_complaints.astype(int),
            "complaint_resolution_days": resolution_days,
            "satisfaction": satisfaction.astype(int),
            "perceived_value": perceived_value,
            "retention_offer": offer,
            "loyalty_programme": loyalty,
            "propensity_loyalty": p_loyal.round(6),
        }
    )

    # --- event times: piecewise-constant cause-specific hazards by month -------------------------
    truth = {"log_hr": truth_log_hr, "baseline_hazard": base}
    X = true_design(frame).to_numpy()
    B = _beta_matrix(truth)
    risk = np.exp(X @ B)  # n x K
    target = rng.exponential(size=n)
    u_cause = rng.random(n)
    event_time = np.full(n, np.inf)
    cause = np.full(n, -1, dtype=np.int8)
    H = np.zeros(n)
    alive = np.arange(n)
    for m in range(M):
        if alive.size == 0:
            break
        hk = risk[alive] * base[:, m]  # |alive| x K
        h = hk.sum(axis=1)
        newH = H[alive] + h
        hit = newH >= target[alive]
        if hit.any():
            idx = alive[hit]
            event_time[idx] = m + (target[idx] - H[idx]) / h[hit]
            cum = np.cumsum(hk[hit], axis=1) / h[hit][:, None]
            cause[idx] = (u_cause[idx][:, None] > cum).sum(axis=1).clip(0, len(CAUSES) - 1)
        H[alive] = newH
        alive = alive[~hit]

    # --- joining dates and censoring at the analysis date ----------------------------------------
    end = pd.Timestamp(analysis_date)
    days_hist = int(history_months * DAYS_PER_MONTH)
    w = np.exp(0.012 * np.arange(days_hist)[::-1] / DAYS_PER_MONTH)  # more recent joins more likely
    followup_days = 1 + rng.choice(days_hist, size=n, p=w / w.sum())
    followup = followup_days / DAYS_PER_MONTH
    churned = event_time <= followup
    tenure = np.where(churned, event_time, followup)
    if tenure_unit == "days":
        tenure = np.maximum(np.ceil(tenure * DAYS_PER_MONTH), 1).astype(int)
    else:
        tenure = np.maximum(np.round(tenure, 4), 1e-4)
    cause_names = np.array(
        CAUSES if competing_risks else ("voluntary",) * len(CAUSES), dtype=object
    )
    frame.insert(1, "start_date", (end - pd.to_timedelta(followup_days, unit="D")).normalize())
    frame.insert(2, "tenure", tenure)
    frame.insert(3, "churned", churned.astype(int))
    frame.insert(4, "churn_type", np.where(churned, cause_names[cause.clip(0)], None))

    # --- outcomes that follow churn: win-back ----------------------------------------------------
    churned_idx = np.flatnonzero(churned)
    contacted = np.full(n, np.nan)
    contacted[churned_idx] = (rng.random(churned_idx.size) < 0.5).astype(float)
    voluntary_cause = np.isin(cause, [CAUSES.index(c) for c in VOLUNTARY]) & competing_risks
    rate = np.where(voluntary_cause, 0.04, 0.005) * np.where(contacted == 1, 2.5, 1.0)
    t_react = rng.exponential(1 / rate)
    window = np.where(churned, followup - event_time, np.nan)
    reactivated = np.where(churned, (t_react <= window).astype(float), np.nan)
    frame["winback_contacted"] = contacted
    frame["reactivated"] = reactivated
    frame["months_to_reactivation"] = np.where(reactivated == 1, np.round(t_react, 3), np.nan)
    frame["months_observed_after_churn"] = np.round(window, 3)

    # --- engagement indicators and the health score ----------------------------------------------
    lp = np.log(risk.sum(axis=1))
    z = (lp - lp.mean()) / (lp.std() + 1e-12)
    frame["logins_per_month"] = rng.poisson(np.exp(2.0 - 0.35 * z + rng.normal(0, 0.3, n)))
    frame["spend_change_pct"] = np.round(-4 * z + rng.normal(0, 6, n), 1)
    frame["contact_changed"] = (rng.random(n) < 1 / (1 + np.exp(2.2 - 0.6 * z))).astype(int)
    frame["health_score"] = np.clip(np.round(76 - 11 * z + rng.normal(0, 9, n)), 0, 100).astype(int)
    frame["n_referrals"] = rng.poisson(
        np.exp(-1.3 + 0.35 * satisfaction_effect * (satisfaction - 3))
    )
    frame["total_revenue"] = np.round(
        charge
        * np.asarray(tenure, dtype=float)
        / (DAYS_PER_MONTH if tenure_unit == "days" else 1.0),
        2,
    )

    # --- truth -----------------------------------------------------------------------------------
    offer_pop = consumer
    loyal_all = np.ones(n, dtype=bool)
    loyal_treated = loyalty == "member"
    truth.update(
        {
            "seed": seed,
            "n_customers": n,
            "knobs": {
                "history_months": history_months,
                "analysis_date": analysis_date,
                "hazard_scale": hazard_scale,
                "satisfaction_effect": satisfaction_effect,
                "interaction": interaction,
                "offer_effect": offer_effect,
                "loyalty_effect": loyalty_effect,
                "confounding": confounding,
                "offer_share": offer_share,
                "competing_risks": competing_risks,
                "tenure_unit": tenure_unit,
                "targeting": targeting,
            },
            "causes": list(CAUSES) if competing_risks else ["voluntary"],
            "terms": list(TERMS),
            "satisfaction_levels": {
                "reference": 3,
                "log_hr_competitive": {
                    lvl: truth_log_hr["competitive"].get(f"sat_{lvl}", 0.0)
                    for lvl in (1, 2, 3, 4, 5)
                },
            },
            "interaction": {
                "term": "dissat_x_sc",
                "definition": "(3 - satisfaction) * switching_cost_score; switching_cost_score = "
                "1*one_year + 2*two_year + 0.5*(n_products - 1)",
                "log_hr": {c: truth_log_hr[c]["dissat_x_sc"] for c in CAUSES},
            },
            "perceived_value_path": {
                "satisfaction_to_perceived_value": 0.6 * satisfaction_effect,
                "log_hr_per_unit": {c: truth_log_hr[c]["perceived_value_c"] for c in CAUSES},
            },
            "retention_offer": {
                "population": "segment == 'consumer'",
                "assignment": "randomised",
                "log_hr": {c: truth_log_hr[c]["retention_offer"] for c in CAUSES},
                "ate": _effects(frame, truth, "offer", offer_pop),
            },
            "loyalty_programme": {
                "population": "all customers",
                "assignment": "observational (targets risky customers)",
                "log_hr": {c: truth_log_hr[c]["loyalty_programme"] for c in CAUSES},
                "ate": _effects(frame, truth, "loyalty", loyal_all),
                "att": _effects(frame, truth, "loyalty", loyal_treated),
                # the overlap population (Li, Morgan & Zaslavsky 2018): weights e(1 - e) with the
                # true propensity, the estimand of overlap weighting
                "ato": _effects(
                    frame, truth, "loyalty", loyal_all, weights=p_loyal * (1 - p_loyal)
                ),
            },
            "winback": {
                "window_months": 3,
                "monthly_reactivation_rate": {
                    "voluntary": 0.04,
                    "other": 0.005,
                    "contact_multiplier": 2.5,
                },
            },
            "horizons": list(HORIZONS),
            "tau": TAU,
        }
    )
    if not competing_risks:
        truth["log_hr"]["voluntary"] = dict(truth_log_hr["competitive"])
        truth["baseline_hazard_voluntary"] = base.sum(axis=0)
    return frame, truth


def check_seed(seed: Any, name: str = "seed") -> None:
    """A seed is a whole number >= 0 (numpy's generators refuse negative seeds)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(
            f"`{name}` must be a whole number >= 0, got {seed!r}. Use e.g. {name}=0; any "
            "non-negative integer gives a reproducible data set."
        )


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(
            f"`{name}` must be a positive whole number, got {value!r}. Use e.g. {name}=2000."
        )
