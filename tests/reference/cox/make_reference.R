# Regenerates the Cox reference values used by tests/unit/test_cox_reference.py.
#
#   cd tests/reference/cox && Rscript make_reference.R [path/to/ibm-telco]
#
# Inputs:  small.csv (committed; 400 synthetic customers with tied whole-month tenures, two strata,
#          case weights, 80 clusters) and the IBM Telco release (default ../../../../shared/data/ibm-telco).
# Outputs: coef.csv (case, term, estimate, se, loglik, concordance) and zph.csv (case, term, chisq, df, p).
# R survival 3.5.3 was used for the committed values.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
telco_dir <- if (length(args)) args[1] else "../../../../shared/data/ibm-telco"

rd <- function(f) read.csv(file.path(telco_dir, f), check.names = FALSE, stringsAsFactors = FALSE,
                           na.strings = "")
services <- rd("Telco_customer_churn_services.csv")
status <- rd("Telco_customer_churn_status.csv")
demo <- rd("Telco_customer_churn_demographics.csv")
telco <- data.frame(id = services[["Customer ID"]],
                    tenure = services[["Tenure in Months"]],
                    contract = factor(services[["Contract"]], levels = c("Month-to-Month", "One Year", "Two Year")),
                    monthly_charge = services[["Monthly Charge"]],
                    number_of_referrals = services[["Number of Referrals"]],
                    paperless_billing = services[["Paperless Billing"]],
                    stringsAsFactors = FALSE)
telco$churn <- status[["Churn Value"]][match(telco$id, status[["Customer ID"]])]
telco$age <- demo[["Age"]][match(telco$id, demo[["Customer ID"]])]
# deterministic case weights the Python test recomputes from age
telco$w <- 0.5 + (telco$age %% 4) / 2

small <- read.csv("small.csv", stringsAsFactors = FALSE)
small$grp <- factor(small$grp, levels = c("a", "b", "c"))

coef_rows <- list()
zph_rows <- list()
add <- function(case, fit, robust = FALSE) {
  se <- if (robust) sqrt(diag(fit$var)) else sqrt(diag(fit$var))
  coef_rows[[length(coef_rows) + 1]] <<- data.frame(
    case = case, term = names(coef(fit)), estimate = unname(coef(fit)), se = unname(se),
    loglik = fit$loglik[2], concordance = unname(fit$concordance["concordance"]))
  z <- cox.zph(fit)
  zph_rows[[length(zph_rows) + 1]] <<- data.frame(
    case = case, term = rownames(z$table), chisq = z$table[, "chisq"], df = z$table[, "df"],
    p = z$table[, "p"])
}

f_telco <- Surv(tenure, churn) ~ contract + monthly_charge + number_of_referrals
add("telco_efron", coxph(f_telco, data = telco, ties = "efron"))
add("telco_breslow", coxph(f_telco, data = telco, ties = "breslow"))
add("telco_strata", coxph(Surv(tenure, churn) ~ contract + monthly_charge + number_of_referrals +
                            strata(paperless_billing), data = telco))
add("telco_cluster", coxph(f_telco, data = telco, cluster = age), robust = TRUE)
add("telco_weights", coxph(f_telco, data = telco, weights = w))

f_small <- Surv(time, status) ~ x1 + x2 + grp
add("small_efron", coxph(f_small, data = small, ties = "efron"))
add("small_breslow", coxph(f_small, data = small, ties = "breslow"))
add("small_strata_weights", coxph(Surv(time, status) ~ x1 + x2 + grp + strata(stratum), data = small,
                                  weights = w))
add("small_strata_weights_breslow", coxph(Surv(time, status) ~ x1 + x2 + grp + strata(stratum),
                                          data = small, weights = w, ties = "breslow"))
add("small_cluster_weights", coxph(f_small, data = small, weights = w, cluster = cluster), robust = TRUE)
add("small_cluster_strata_breslow", coxph(Surv(time, status) ~ x1 + x2 + grp + strata(stratum),
                                          data = small, cluster = cluster, ties = "breslow"), robust = TRUE)

write.csv(do.call(rbind, coef_rows), "coef.csv", row.names = FALSE)
write.csv(do.call(rbind, zph_rows), "zph.csv", row.names = FALSE)

# predicted survival for three covariate profiles at 6, 12, 24 months (survfit.coxph)
fit <- coxph(f_telco, data = telco)
nd <- data.frame(contract = factor(c("Month-to-Month", "One Year", "Two Year"), levels = levels(telco$contract)),
                 monthly_charge = c(20, 70, 110), number_of_referrals = c(0, 2, 5))
sf <- summary(survfit(fit, newdata = nd), times = c(6, 12, 24))
pred <- data.frame(profile = rep(1:3, each = 3), time = rep(sf$time, 3), survival = as.vector(sf$surv))
write.csv(pred, "predict.csv", row.names = FALSE)
