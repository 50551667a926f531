"""Satisfaction, switching costs and retention: testable hypotheses H1-H4 with honest statistics.

* :func:`evaluate_hypotheses` - H1-H3 (+ H4) as one family: estimate, CI, test, adjusted p-value,
  decision and a plain-language sentence, under a censoring-aware outcome view (Cox, discrete-time
  hazard, or retained at a horizon with IPCW);
* :func:`satisfaction_form` - categories / linear / natural spline, LR tests of non-linearity,
  predicted retention by satisfaction;
* :func:`interaction_effects` - H3 on the log-hazard, log-odds and probability scales with marginal
  effects at low / medium / high switching cost;
* :func:`mediation_analysis` - H4 through perceived value;
* :func:`check_separation`, :func:`firth_logistic`, :func:`firth_cox` - separation / monotone
  likelihood detection and the Firth-penalised fits used when it occurs;
* :func:`horizon_sensitivity`, :func:`minimum_detectable_effect`, :func:`key_findings`.
"""

from ..plotting.drivers import plot_horizon_sensitivity
from .design import DriverData, build_design, resolve_inputs, switching_cost_index
from .family import HypothesesResult, evaluate_hypotheses, horizon_sensitivity
from .findings import check_separation, key_findings
from .firth import FirthResult, firth_cox, firth_logistic
from .h1_satisfaction import NonlinearityResult, satisfaction_form
from .h2_switching_costs import switching_costs_separately
from .h3_interaction import InteractionResult, interaction_effects
from .h4_mediation import MediationResult, mediation_analysis
from .outcomes import censoring_survival, horizon_outcome, person_period
from .power import PowerResult, interaction_power, minimum_detectable_effect
from .separation import SeparationResult, detect_monotone_likelihood, detect_separation
from .terms import adjust_pvalues

__all__ = [
    "DriverData",
    "FirthResult",
    "HypothesesResult",
    "InteractionResult",
    "MediationResult",
    "NonlinearityResult",
    "PowerResult",
    "SeparationResult",
    "adjust_pvalues",
    "build_design",
    "censoring_survival",
    "check_separation",
    "detect_monotone_likelihood",
    "detect_separation",
    "evaluate_hypotheses",
    "firth_cox",
    "firth_logistic",
    "horizon_outcome",
    "horizon_sensitivity",
    "interaction_effects",
    "interaction_power",
    "key_findings",
    "mediation_analysis",
    "minimum_detectable_effect",
    "person_period",
    "plot_horizon_sensitivity",
    "resolve_inputs",
    "satisfaction_form",
    "switching_costs_separately",
    "switching_cost_index",
]
