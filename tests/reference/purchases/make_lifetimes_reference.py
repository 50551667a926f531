"""Second independent reference: the `lifetimes` package (0.11.3), run in a throwaway venv (it is not
a project dependency):

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes==0.11.3
    /tmp/lt/bin/python tests/reference/purchases/make_lifetimes_reference.py

Writes lifetimes_predictions.csv: P(alive), conditional and unconditional expected purchases of each
model at fixed parameters on a grid of (x, t_x, T) (no data needed), for tests that pin the
prediction formulas of workbench.purchases to a second implementation.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import BetaGeoBetaBinomFitter, BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

OUT = Path(__file__).resolve().parent / "lifetimes_predictions.csv"
x = np.array([0, 0, 1, 2, 5, 10, 3, 7], float)
tx = np.array([0, 0, 5.0, 20.0, 30.5, 38.0, 10.0, 25.0])
T = np.array([20.0, 38.9, 30.0, 38.0, 38.9, 38.9, 38.0, 36.0])
t = 39.0
PARAMS = {
    "bgnbd": (BetaGeoFitter, dict(r=0.243, alpha=4.414, a=0.793, b=2.426)),
    "mbgnbd": (ModifiedBetaGeoFitter, dict(r=0.525, alpha=6.183, a=0.891, b=1.614)),
    "paretonbd": (ParetoNBDFitter, dict(r=0.553, alpha=10.578, s=0.606, beta=11.669)),
}
rows = []
for name, (cls, p) in PARAMS.items():
    m = cls()
    m.params_ = pd.Series(p)
    pa = m.conditional_probability_alive(x, tx, T)
    ce = m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    ue = m.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, 39.0, 78.0]))
    for i in range(x.size):
        rows += [
            (name, "p_alive", x[i], tx[i], T[i], pa[i]),
            (name, "conditional_39", x[i], tx[i], T[i], ce[i]),
        ]
    for tt, v in zip([1.0, 10.0, 39.0, 78.0], ue):
        rows.append((name, "unconditional", np.nan, np.nan, tt, v))
b = BetaGeoBetaBinomFitter()
b.params_ = pd.Series(dict(alpha=1.2, beta=0.75, gamma=0.66, delta=2.78))
bx, btx, bn = np.array([0, 1, 3, 6]), np.array([0, 2, 6, 6]), np.array([6, 6, 6, 6])
pa = b.conditional_probability_alive(1, bx, btx, bn)
ce = b.conditional_expected_number_of_purchases_up_to_time(5, bx, btx, bn)
for i in range(bx.size):
    rows += [
        ("bgbb", "p_alive", bx[i], btx[i], bn[i], pa[i]),
        ("bgbb", "conditional_5", bx[i], btx[i], bn[i], ce[i]),
    ]
pd.DataFrame(rows, columns=["model", "quantity", "x", "tx", "T", "value"]).to_csv(
    OUT, index=False, float_format="%.15g"
)
print(OUT)
