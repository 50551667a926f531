"""Retention overview: churn, retention and referral rates, lifecycle stages, churn causes, segments
and joining-cohort tables.

Modules: :mod:`.rates` (periods, causes, segments, referrals), :mod:`.lifecycle` (life table over
tenure), :mod:`.cohorts` (joining cohorts), :mod:`.findings` (key findings).

Denominators (the rules every function here follows)
----------------------------------------------------
* **Calendar periods** (:func:`period_rates`): the customers *at risk* in a period are those active
  at its start (joined before the period began and not yet gone). The churn rate (``estimate``) =
  churned / customers at risk counts only their churn in the period; ``retention_rate = 1 -
  estimate``. Customers who join during the period are not in the denominator: they are counted in
  ``joined`` and their churn in the same period in ``joined_and_churned``. A period cut short by the
  analysis date is flagged ``complete = False``.
* **Lifecycle stages** (:func:`lifecycle_rates`): a life table over tenure. Every customer is at risk
  in the first stage ``[0, b]`` (tenure 0 included), then in ``(a, b]`` while her tenure exceeds
  ``a``; ``estimate`` is the actuarial stage churn probability ``churned / (at_risk - censored / 2)``
  and ``monthly_churn_rate`` the person-time rate ``churned / customer-months in the stage``. Coarse
  tenure (whole years, ...) puts the stages on the data's own grid, and says so.
* **Causes and segments** (:func:`churn_by_cause`, :func:`rates_by_segment`): the share of churners
  and the person-time rate (churn per customer-month of exposure), which is comparable across
  groups followed for different lengths of time; the crude proportion is given beside it.
* **Cohorts** (:func:`cohort_table`): a cohort's cell at ``m`` months since joining is shown only when
  every member could have been observed for ``m`` months; otherwise it is blank (``NaN``), never
  counted as churn.

References
----------
Gupta, S., Lehmann, D. R. & Stuart, J. A. (2004). Valuing customers. *Journal of Marketing Research*,
41(1), 7-18 (retention rates per period, cohort views).
Cutler, S. J. & Ederer, F. (1958). Maximum utilization of the life table method in analyzing
survival. *Journal of Chronic Diseases*, 8(6), 699-712 (actuarial life table).
"""

from ..exceptions import UnavailableWarning
from ._common import CauseResult, CohortResult, LifecycleResult, RatesResult
from .cohorts import cohort_survivors, cohort_table
from .findings import key_findings
from .lifecycle import DEFAULT_STAGES, lifecycle_rates
from .rates import churn_by_cause, period_rates, rates_by_segment, referral_rate

__all__ = [
    "DEFAULT_STAGES",
    "CauseResult",
    "CohortResult",
    "LifecycleResult",
    "RatesResult",
    "UnavailableWarning",
    "churn_by_cause",
    "cohort_survivors",
    "cohort_table",
    "key_findings",
    "lifecycle_rates",
    "period_rates",
    "rates_by_segment",
    "referral_rate",
]
