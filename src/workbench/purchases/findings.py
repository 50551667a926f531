"""Key findings for purchase histories, composed from the results (numbers, units, interval labels)."""

from __future__ import annotations

from ..findings import DETAIL, HEADLINE, MAIN, Finding, ci_label

__all__ = ["key_findings"]

SECTION = "Purchase histories"


def _unit(meta) -> str:
    return meta.get("time_unit") or "periods"


def key_findings(
    *,
    summary=None,
    fit=None,
    spend_fit=None,
    predictions=None,
    tracking=None,
    comparison=None,
    priorities=None,
) -> list[Finding]:
    """Sentences on the customer base, the model's fit, predictions with intervals and priorities.

    Every number comes from the result it describes; intervals are labelled from ``alpha``; the
    caveats that qualify a sentence (fit warnings, parameter-only intervals, BG/NBD's "no repeat
    purchase = alive" convention, the spend-frequency correlation) travel with it.
    """
    out: list[Finding] = []
    if summary is not None:
        s = summary.summary.set_index("term")["estimate"]
        m = summary.meta
        excl = [e for e in m.get("exclusions", []) if e.get("n_rows")]
        out.append(
            Finding(
                f"{int(s['customers']):,} customers in the calibration cohort; {s['repeat buyers (share)']:.0%} "
                f"bought again within the calibration period ({m.get('calibration_start', '?')} to "
                f"{m.get('calibration_end', '?')}), making {s['repeat purchases per customer']:.2f} repeat "
                f"purchases each on average.",
                importance=MAIN,
                caveats=tuple(f"{e['n_rows']:,} excluded: {e['detail']}" for e in excl),
                section=SECTION,
            )
        )
    if fit is not None:
        a = fit.meta["alpha"]
        unit = _unit(fit.meta)
        caveats = list(fit.warnings)
        if fit.model.name == "BG/NBD":
            caveats.append(
                "BG/NBD counts every customer without a repeat purchase as alive (P(alive) = 1); MBG/NBD "
                "or Pareto/NBD do not."
            )
        if predictions is not None:
            p = predictions.summary.set_index("quantity")
            lab = ci_label(predictions.meta["alpha"])
            pm = predictions.meta
            row = p.loc["expected_purchases"]
            out.append(
                Finding(
                    f"{fit.model.name} expects {row['estimate']:,.0f} purchases from these customers in the next "
                    f"{pm['horizon']:g} {unit} ({lab} {row['ci_lower']:,.0f} to {row['ci_upper']:,.0f}); mean "
                    f"P(alive) is {p.loc['p_alive', 'estimate']:.2f} ({lab} {p.loc['p_alive', 'ci_lower']:.2f} to "
                    f"{p.loc['p_alive', 'ci_upper']:.2f}).",
                    importance=HEADLINE,
                    caveats=tuple(caveats + [f"intervals: {pm['interval']}"]),
                    section=SECTION,
                )
            )
            if "clv" in p.index:
                r = p.loc["clv"]
                out.append(
                    Finding(
                        f"Their discounted value over {pm['horizon']:g} {unit} is {r['estimate']:,.0f} "
                        f"({lab} {r['ci_lower']:,.0f} to {r['ci_upper']:,.0f}) at a discount rate of "
                        f"{pm['discount_rate']:.4g} per {unit.rstrip('s')} and a margin of {pm['margin']:.0%} of spend.",
                        importance=HEADLINE,
                        caveats=tuple(spend_fit.warnings) if spend_fit is not None else (),
                        section=SECTION,
                    )
                )
        else:
            lab = ci_label(a)
            s = fit.summary.set_index("term")
            first = s.index[0]
            out.append(
                Finding(
                    f"{fit.model.name}: {first} = {s.loc[first, 'estimate']:.3g} ({lab} {s.loc[first, 'ci_lower']:.3g} "
                    f"to {s.loc[first, 'ci_upper']:.3g}), log likelihood {fit.loglik_:,.1f}.",
                    importance=MAIN,
                    caveats=tuple(caveats),
                    section=SECTION,
                )
            )
    if spend_fit is not None:
        ind = spend_fit.tables.get("independence")
        if ind is not None and len(ind):
            r = ind.iloc[0]
            lab = ci_label(spend_fit.meta["alpha"])
            out.append(
                Finding(
                    f"Spend per purchase and purchase frequency correlate at r = {r['estimate']:.2f} ({lab} "
                    f"{r['ci_lower']:.2f} to {r['ci_upper']:.2f}) among {int(r['n']):,} repeat buyers; the "
                    "Gamma-Gamma spend model assumes they are independent.",
                    importance=DETAIL,
                    caveats=tuple(spend_fit.warnings),
                    section=SECTION,
                )
            )
    if tracking is not None:
        t = tracking.summary.set_index("term")["estimate"]
        out.append(
            Finding(
                f"In the holdout, {tracking.meta['model']} expected {t['holdout repeat purchases: expected']:,.0f} "
                f"repeat purchases against {t['holdout repeat purchases: actual']:,.0f} actual "
                f"({t['holdout total error (%)']:+.1f}%); its cumulative tracking curve is off by "
                f"{t['holdout MAPE of the cumulative curve (%)']:.1f}% on average.",
                importance=MAIN,
                section=SECTION,
            )
        )
    if comparison is not None and len(comparison.summary) > 1:
        c = comparison.summary.set_index("term")
        best = comparison.meta["best"]
        others = ", ".join(f"{k} {v:.3f}" for k, v in c["mae"].items() if k != best)
        out.append(
            Finding(
                f"By customer-level holdout error, {best} predicts best (mean absolute error {c.loc[best, 'mae']:.3f} "
                f"purchases per customer; {others}).",
                importance=DETAIL,
                caveats=("one holdout period; differences this small may not persist",),
                section=SECTION,
            )
        )
    if priorities is not None:
        s = priorities.summary
        key = s[s["tier"].astype(str) == "key"]
        at_risk = key[key["status"] != "active"]
        total = float(s["value_at_risk"].sum())
        share = float(at_risk["value_at_risk"].sum()) / total if total > 0 else float("nan")
        out.append(
            Finding(
                f"{int(at_risk['n'].sum()):,} key customers are hesitating or lapsed; they hold {share:.0%} of the "
                f"value at risk across all customers and head the retention / win-back list.",
                importance=HEADLINE,
                caveats=(
                    "value at risk uses point predictions; see the interval columns for uncertainty",
                ),
                section=SECTION,
            )
        )
    return out
