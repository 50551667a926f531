# Regenerates the competing-risks reference values used by tests/unit/test_competing_reference.py.
#
#   cd tests/reference/competing && Rscript make_reference.R [path/to/ibm-telco]
#
# Inputs:  ../cox/small.csv (400 synthetic customers, causes 1/2, whole-month tenures with ties,
#          groups a/b/c, two strata) and the IBM Telco release (default ../../../../shared/data/ibm-telco).
# Outputs: cuminc.csv (case, curve, time, est, var: every corner of cmprsk's step function),
#          gray.csv (case, cause, stat, pv, df) and crr.csv (case, term, estimate, se).
# R cmprsk 2.2-11 / survival 3.5.3 were used for the committed values.
suppressPackageStartupMessages(library(cmprsk))
args <- commandArgs(trailingOnly = TRUE)
telco_dir <- if (length(args)) args[1] else "../../../../shared/data/ibm-telco"

rd <- function(f) read.csv(file.path(telco_dir, f), check.names = FALSE, stringsAsFactors = FALSE,
                           na.strings = "")
services <- rd("Telco_customer_churn_services.csv")
status <- rd("Telco_customer_churn_status.csv")
telco <- data.frame(id = services[["Customer ID"]],
                    tenure = services[["Tenure in Months"]],
                    contract = factor(services[["Contract"]], levels = c("Month-to-Month", "One Year", "Two Year")),
                    monthly_charge = services[["Monthly Charge"]],
                    number_of_referrals = services[["Number of Referrals"]],
                    paperless_billing = services[["Paperless Billing"]],
                    stringsAsFactors = FALSE)
i <- match(telco$id, status[["Customer ID"]])
telco$churn <- status[["Churn Value"]][i]
telco$cause <- ifelse(telco$churn == 1, status[["Churn Category"]][i], "censored")

small <- read.csv("../cox/small.csv", stringsAsFactors = FALSE)

cuminc_rows <- list()
gray_rows <- list()
add_cuminc <- function(case, ci) {
  tests <- ci$Tests
  curves <- ci[names(ci) != "Tests"]
  for (nm in names(curves)) {
    z <- curves[[nm]]
    cuminc_rows[[length(cuminc_rows) + 1]] <<- data.frame(case = case, curve = nm, time = z$time,
                                                          est = z$est, var = z$var)
  }
  if (!is.null(tests))
    gray_rows[[length(gray_rows) + 1]] <<- data.frame(case = case, cause = rownames(tests),
                                                      stat = tests[, "stat"], pv = tests[, "pv"],
                                                      df = tests[, "df"])
}
add_cuminc("small_overall", cuminc(small$time, small$cause, cencode = 0))
add_cuminc("small_grp", cuminc(small$time, small$cause, small$grp, cencode = 0))
add_cuminc("small_grp_strata", cuminc(small$time, small$cause, small$grp, strata = small$stratum, cencode = 0))
add_cuminc("telco_contract", cuminc(telco$tenure, telco$cause, telco$contract, cencode = "censored"))
add_cuminc("telco_paperless", cuminc(telco$tenure, telco$cause, telco$paperless_billing, cencode = "censored"))
write.csv(do.call(rbind, cuminc_rows), "cuminc.csv", row.names = FALSE)
write.csv(do.call(rbind, gray_rows), "gray.csv", row.names = FALSE)

crr_rows <- list()
add_crr <- function(case, fit) {
  crr_rows[[length(crr_rows) + 1]] <<- data.frame(case = case, term = names(fit$coef), estimate = unname(fit$coef),
                                                  se = sqrt(diag(fit$var)), converged = fit$converged)
}
Xs <- cbind(x1 = small$x1, x2 = small$x2, grpb = as.numeric(small$grp == "b"), grpc = as.numeric(small$grp == "c"))
add_crr("small_cause1", crr(small$time, small$cause, Xs, failcode = 1, cencode = 0))
add_crr("small_cause2", crr(small$time, small$cause, Xs, failcode = 2, cencode = 0))
Xt <- cbind(one_year = as.numeric(telco$contract == "One Year"), two_year = as.numeric(telco$contract == "Two Year"),
            monthly_charge = telco$monthly_charge, number_of_referrals = telco$number_of_referrals)
add_crr("telco_competitor", crr(telco$tenure, telco$cause, Xt, failcode = "Competitor", cencode = "censored"))
add_crr("telco_price", crr(telco$tenure, telco$cause, Xt, failcode = "Price", cencode = "censored"))
write.csv(do.call(rbind, crr_rows), "crr.csv", row.names = FALSE)
