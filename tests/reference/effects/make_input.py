"""Write the input data of the effects reference script (run once; the CSV is committed).

.venv/bin/python tests/reference/effects/make_input.py && Rscript tests/reference/effects/effects_reference.R
"""

from pathlib import Path

from workbench.data import simulate

HERE = Path(__file__).resolve().parent

frame, _ = simulate(1500, seed=11)
out = frame[
    [
        "tenure",
        "churned",
        "churn_type",
        "loyalty_programme",
        "retention_offer",
        "contract",
        "monthly_charge",
        "n_complaints",
        "satisfaction",
        "age",
        "monthly_margin",
        "winback_contacted",
        "reactivated",
        "months_to_reactivation",
        "months_observed_after_churn",
    ]
].copy()
out.to_csv(HERE / "input_synthetic.csv", index=False)
