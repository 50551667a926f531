"""Display names: column keys and model terms in words, with units.

One label map serves report tables (headers, with the raw key kept in a tooltip), figure axes and
legends, and the batch summary, so ``median_tenure`` reads "Median tenure (months)" everywhere.
Units come from the data's role spec (``tenure_unit``, ``currency``), read defensively: a spec
without them gives labels without a currency and tenure in months.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["Units", "humanize", "humanize_term", "label", "plain_words", "units_from"]

#: key -> label; ``{tenure}`` and ``{currency}`` are filled from :class:`Units`
LABELS: dict[str, str] = {
    "term": "Term",
    "group": "Group",
    "segment": "Segment",
    "level": "Level",
    "stratum": "Stratum",
    "arm": "Arm",
    "estimate": "Estimate",
    "se": "Std. error",
    "ci_lower": "Lower limit",
    "ci_upper": "Upper limit",
    "statistic": "Test statistic",
    "df": "Degrees of freedom",
    "p_value": "p-value",
    "p_adjusted": "Adjusted p-value",
    "n": "Customers",
    "n_customers": "Customers",
    "customers": "Customers",
    "n_at_risk": "At risk",
    "at_risk": "At risk",
    "events": "Churned",
    "n_events": "Churned",
    "n_churned": "Churned",
    "churned": "Churned",
    "censored": "Still customers",
    "churn_rate": "Churn rate",
    "retention_rate": "Retention rate",
    "referral_rate": "Referral rate",
    "survival": "Still customers (share)",
    "time": "Time ({tenure})",
    "tenure": "Tenure ({tenure})",
    "median_tenure": "Median tenure ({tenure})",
    "median": "Median ({tenure})",
    "rmst": "Mean tenure within horizon ({tenure})",
    "rmst_difference": "Difference in mean tenure ({tenure})",
    "rmst_ratio": "Ratio of mean tenure",
    "horizon": "Horizon ({tenure})",
    "hazard_ratio": "Hazard ratio",
    "hr": "Hazard ratio",
    "odds_ratio": "Odds ratio",
    "exp_coef": "Hazard ratio",
    "coef": "Log hazard ratio",
    "monthly_charge": "Monthly charge ({currency})",
    "monthly_margin": "Monthly margin ({currency})",
    "total_revenue": "Total revenue ({currency})",
    "revenue": "Revenue ({currency})",
    "margin": "Margin ({currency})",
    "clv": "Customer lifetime value ({currency})",
    "cltv": "Customer lifetime value ({currency})",
    "value": "Value ({currency})",
    "p_alive": "Probability still active",
    "satisfaction": "Satisfaction",
    "perceived_value": "Perceived value",
    "contract": "Contract",
    "payment_method": "Payment method",
    "n_products": "Products held",
    "age": "Age (years)",
    "ate": "Average effect",
    "att": "Effect on the treated",
    "nnt": "Customers to treat per churn avoided",
    "smd": "Standardised mean difference",
    "e_value": "E-value",
    "cohort": "Cohort",
    "share": "Share",
    "ess": "Effective sample size",
    "sum_weights": "Sum of weights",
    "top1pct_n": "Customers in the top 1% of weight",
    "top1pct_share": "Weight held by the top 1%",
    "smd_before": "SMD before weighting",
    "smd_after": "SMD after weighting",
    "balanced": "Balanced (|SMD| < 0.1)",
    "churn_prob": "Churn probability",
    "observed_churn": "Observed churn",
    "mean_score": "Mean score",
    "estimand": "Quantity",
    "unit": "Unit",
    "reference": "Reference group",
    "o_minus_e": "Observed minus expected",
    "oe2_over_e": "(O - E)² / E",
    "oe2_over_v": "(O - E)² / V",
    "observed": "Observed churn",
    "expected": "Expected churn",
    "weight": "Weight",
}

#: words kept in upper case when a key is turned into words
ACRONYMS = {
    "ci",
    "rmst",
    "clv",
    "cltv",
    "rfm",
    "bg",
    "nbd",
    "ate",
    "att",
    "atc",
    "km",
    "hr",
    "id",
    "ipw",
    "aipw",
    "smd",
    "cif",
    "nnt",
    "sbg",
    "eur",
    "usd",
    "gbp",
}

TENURE_UNITS = {"days": "days", "weeks": "weeks", "months": "months", "years": "years"}


class Units(dict):
    """``{'tenure': 'months', 'currency': 'EUR' or ''}`` with attribute access."""

    @property
    def tenure(self) -> str:
        return self.get("tenure") or "months"

    @property
    def currency(self) -> str:
        return self.get("currency") or ""


def units_from(source: Any = None) -> Units:
    """Units from a role spec, a Dataset, a manifest's ``dataset`` entry or a mapping.

    Reads ``tenure_unit`` and ``currency`` when present (older specs have no ``currency``).

    Examples
    --------
    >>> units_from({"tenure_unit": "weeks", "currency": "EUR"})
    {'tenure': 'weeks', 'currency': 'EUR'}
    >>> units_from(None).tenure
    'months'
    """
    if source is None:
        return Units(tenure="months", currency="")
    spec = getattr(source, "spec", source)
    if isinstance(spec, Mapping):
        units = spec.get("units") if isinstance(spec.get("units"), Mapping) else spec
        tenure = units.get("tenure_unit") or units.get("tenure")
        currency = units.get("currency")
    else:
        tenure = getattr(spec, "tenure_unit", None)
        currency = getattr(spec, "currency", None)
    tenure = TENURE_UNITS.get(str(tenure), "months") if tenure else "months"
    return Units(tenure=tenure, currency=str(currency) if currency else "")


def humanize(key: Any) -> str:
    """A column key in words: ``median_tenure -> "Median tenure"``, ``rmst_24 -> "RMST 24"``.

    Examples
    --------
    >>> humanize("p_value_holm")
    'P value holm'
    >>> humanize("ci_lower")
    'CI lower'
    """
    text = str(key).strip()
    if not text:
        return text
    text = humanize_term(text)
    words = re.split(r"[_\s]+", text)
    out = []
    for i, w in enumerate(words):
        if w.lower() in ACRONYMS:
            out.append(w.upper())
        elif i == 0:
            out.append(w[:1].upper() + w[1:])
        else:
            out.append(w)
    return " ".join(x for x in out if x)


_PATSY = re.compile(r"^(?:C\()?([A-Za-z_][\w.]*)\)?(?:\s*,[^\]]*)?\[(?:T\.)?([^\]]+)\]$")


def humanize_term(term: Any) -> str:
    """A model term in words: ``contract[two_year] -> "contract: two year"`` (patsy / formula
    style ``C(contract)[T.two_year]`` too); other text unchanged.

    Examples
    --------
    >>> humanize_term("C(contract)[T.two_year]")
    'contract: two year'
    >>> humanize_term("satisfaction")
    'satisfaction'
    """
    text = str(term)
    m = _PATSY.match(text.strip())
    if m:
        return f"{m.group(1)}: {m.group(2).replace('_', ' ')}"
    return text


def label(key: Any, units: Mapping[str, str] | None = None) -> str:
    """Display name of a column key, with units where the key has one.

    Examples
    --------
    >>> label("median_tenure", {"tenure": "weeks"})
    'Median tenure (weeks)'
    >>> label("clv", {"currency": "EUR"})
    'Customer lifetime value (EUR)'
    >>> label("clv")
    'Customer lifetime value'
    >>> label("some_new_key")
    'Some new key'
    """
    u = units if isinstance(units, Units) else Units(**(units or {}))
    k = str(key)
    base = LABELS.get(k) or LABELS.get(k.lower())
    if base is None:
        m = re.match(r"^(.+?)_(months|days|weeks|years)$", k)
        if m:
            return f"{humanize(m.group(1))} ({m.group(2)})"
        return humanize(k)
    text = base.replace("{tenure}", u.tenure)
    if "{currency}" in text:
        text = (
            text.replace(" ({currency})", "").replace("{currency}", "")
            if not u.currency
            else (text.replace("{currency}", u.currency))
        )
    return text


_SNAKE_WORD = re.compile(r"(?<![\w./\[`])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w(\[`])")


def plain_words(text: Any) -> str:
    """Text with snake_case level names in words (``month_to_month -> month to month``); names
    followed by ``(`` or inside backticks (code) stay as they are.

    Examples
    --------
    >>> plain_words("Median tenure: month_to_month: 28.1 months; see fit_cox(x), `cltv_col`")
    'Median tenure: month to month: 28.1 months; see fit_cox(x), `cltv_col`'
    >>> plain_words("contract=two_year")
    'contract=two year'
    """
    return _SNAKE_WORD.sub(lambda m: m.group(1).replace("_", " "), str(text))
