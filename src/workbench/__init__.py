"""Retention Workbench: survival, drivers, intervention effects and customer value for churn research.

Notebooks stay thin; everything they call lives here. Sub-packages follow the flow
data in -> analyses -> presentation -> running:

``workbench.data``       role specs, validation, loaders, Telco adapter, synthetic data
``workbench.columns``    the one resolver: data + column keywords -> checked arrays; reference levels
``workbench.retention``  rates, cohorts, lifecycle         ``workbench.survival``  KM, Cox, RMST, CIF
``workbench.drivers``    satisfaction & switching costs     ``workbench.effects``   interventions
``workbench.value``      lifetime value, sBG, value matrix, health score
``workbench.results``    the one result contract            ``workbench.record``    results.json
``workbench.findings``   Finding sentences, interval labels  ``workbench.exceptions`` errors, caveats
``workbench.runner``     papermill runs, batches, reports   ``workbench.cli``       ``workbench ...``
"""

from .data import Dataset, RoleSpec, load_dataset, simulate, validate
from .presentation import warning_display as _warning_display
from .record import record

_warning_display.install()  # caveats point at the user's cell, not at library lines

__version__ = "0.1.0"
__all__ = ["Dataset", "RoleSpec", "__version__", "load_dataset", "record", "simulate", "validate"]
