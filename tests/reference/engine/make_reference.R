# Reference values for workbench.survival.engine (R survival::coxph).
# Regenerate from the repository root:
#   .venv/bin/python tests/reference/engine/make_data.py
#   Rscript tests/reference/engine/make_reference.R
# Writes tests/reference/engine/reference.csv (case, quantity, term, value) and baseline.csv.
suppressPackageStartupMessages(library(survival))
here <- "tests/reference/engine"
covs <- c("sat_1", "sat_2", "sat_4", "sat_5", "contract_one_year", "contract_two_year",
          "n_products_c", "charge_10", "perceived_value_c", "age_10")
tied <- read.csv(file.path(here, "tied_days.csv"))
cont <- read.csv(file.path(here, "continuous.csv"))
ctl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-13)
rhs <- paste(covs, collapse = " + ")
f_days <- as.formula(paste("Surv(tenure, churned) ~", rhs))
f_month <- as.formula(paste("Surv(tenure_month, churned) ~", rhs))
f_strat <- as.formula(paste("Surv(tenure, churned) ~", rhs, "+ strata(segment)"))
f_strat_m <- as.formula(paste("Surv(tenure_month, churned) ~", rhs, "+ strata(segment)"))
f_clus <- as.formula(paste("Surv(tenure_month, churned) ~", rhs, "+ cluster(household)"))

fits <- list(
  days_efron        = coxph(f_days, data = tied, ties = "efron", control = ctl),
  days_breslow      = coxph(f_days, data = tied, ties = "breslow", control = ctl),
  month_efron       = coxph(f_month, data = tied, ties = "efron", control = ctl),
  month_breslow     = coxph(f_month, data = tied, ties = "breslow", control = ctl),
  continuous_efron  = coxph(f_days, data = cont, ties = "efron", control = ctl),
  continuous_breslow = coxph(f_days, data = cont, ties = "breslow", control = ctl),
  strata_month_efron = coxph(f_strat_m, data = tied, ties = "efron", control = ctl),
  strata_continuous_breslow = coxph(f_strat, data = cont, ties = "breslow", control = ctl),
  weighted_month_efron = coxph(f_month, data = tied, weights = weight, ties = "efron", control = ctl),
  weighted_month_breslow = coxph(f_month, data = tied, weights = weight, ties = "breslow", control = ctl),
  weighted_robust_month_efron = coxph(f_month, data = tied, weights = weight, ties = "efron",
                                      robust = TRUE, control = ctl),
  weighted_robust_days_breslow = coxph(f_days, data = tied, weights = weight, ties = "breslow",
                                       robust = TRUE, control = ctl),
  weighted_strata_continuous_efron = coxph(f_strat, data = cont, weights = weight, ties = "efron",
                                           robust = TRUE, control = ctl),
  cluster_month_efron = coxph(f_clus, data = tied, ties = "efron", control = ctl)
)

rows <- list()
add <- function(case, quantity, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, term = term,
                                          value = sprintf("%.15g", value))
}
for (nm in names(fits)) {
  fit <- fits[[nm]]
  add(nm, "coef", names(coef(fit)), coef(fit))
  add(nm, "se", names(coef(fit)), sqrt(diag(fit$var)))
  if (!is.null(fit$naive.var)) add(nm, "naive_se", names(coef(fit)), sqrt(diag(fit$naive.var)))
  add(nm, "loglik", "", fit$loglik[2])
  add(nm, "loglik_null", "", fit$loglik[1])
  add(nm, "score_test", "", fit$score)
  add(nm, "wald_test", "", fit$wald.test)
  add(nm, "n_iter", "", fit$iter)
  add(nm, "means", names(coef(fit)), fit$means)
}
write.csv(do.call(rbind, rows), file.path(here, "reference.csv"), row.names = FALSE, quote = TRUE)

# Baseline cumulative hazard at the (weighted) covariate means: survfit.coxph (ctype follows ties).
base <- list()
for (nm in c("days_efron", "month_breslow", "month_efron", "weighted_month_efron")) {
  fit <- fits[[nm]]
  sf <- survfit(fit, newdata = as.data.frame(t(fit$means)), se.fit = FALSE)
  keep <- sf$n.event > 0
  base[[nm]] <- data.frame(case = nm, time = sf$time[keep],
                           cumhaz = sprintf("%.15g", sf$cumhaz[keep]))
}
write.csv(do.call(rbind, base), file.path(here, "baseline.csv"), row.names = FALSE, quote = TRUE)
cat("wrote", file.path(here, "reference.csv"), "and baseline.csv\n")
