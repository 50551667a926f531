"""Print the agreement table of ``docs/cox-firth.md``: the engine's Firth fits against firth.json.

Run from the repository root: ``PYTHONPATH=src .venv/bin/python tests/reference/firth/agreement.py``.
"""

import sys

sys.path.insert(0, "tests/unit")  # the cases are built as the test builds them
import numpy as np
import test_cox_firth as T

from workbench.survival import cox_fit
from workbench.survival.profile import cox_profile_ci

print(
    "| case | max abs diff estimate | SE | penalised loglik | loglik | profile CI of the separating term |"
)
print("|---|---|---|---|---|---|")
for name, ref in T.REF.items():
    X, t, e, kw, j = T._case(name)
    f = cox_fit(X, t, e, firth=True, keep_data=True, **kw)
    ci = cox_profile_ci(f, [j])[0]
    d = [
        np.max(np.abs(f.params - ref["coef"])),
        np.max(np.abs(f.se - ref["se"])),
        abs(f.penalised_loglik - ref["penalised_loglik"][0]),
        abs(f.loglik - ref["loglik"][0]),
        np.max(np.abs(ci - ref["profile_ci"])),
    ]
    print(f"| {name} | " + " | ".join(f"{v:.1e}" for v in d) + " |")
