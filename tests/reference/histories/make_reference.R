# Reference values for delayed entry, counting-process Cox, tmerge and multi-state models.
# Run from the repository root:  Rscript tests/reference/histories/make_reference.R
# (R >= 4, package survival >= 3.5; values written next to this script; tests read them, CI has no R).
library(survival)
shared <- Sys.getenv("WORKBENCH_SHARED", "../shared")
options(digits = 17)
here <- "tests/reference/histories"
w <- function(x, f) write.csv(x, file.path(here, f), row.names = FALSE)

# ---------------------------------------------------------------- Telco with the quarter window
sv <- read.csv(file.path(shared, "data/ibm-telco/Telco_customer_churn_services.csv"), check.names = FALSE)
st <- read.csv(file.path(shared, "data/ibm-telco/Telco_customer_churn_status.csv"), check.names = FALSE)
tel <- merge(st[, c("Customer ID", "Churn Value", "Satisfaction Score")],
             sv[, c("Customer ID", "Tenure in Months", "Contract", "Monthly Charge")], by = "Customer ID")
names(tel) <- c("id", "churn", "sat", "tenure", "contract", "charge")
tel$entry <- pmax(0, tel$tenure - 3)
# KM with delayed entry (Greenwood SE of S, log CI as survfit's default, n at risk)
km <- survfit(Surv(entry, tenure, churn) ~ 1, data = tel)
# survfit's std.err is the SE of -log S (the cumulative hazard); summary()'s is the SE of S
w(data.frame(time = km$time, n_risk = km$n.risk, n_event = km$n.event, surv = km$surv,
             se_log = km$std.err, lower = km$lower, upper = km$upper), "telco_km_entry.csv")
kmc <- survfit(Surv(entry, tenure, churn) ~ contract, data = tel)
sk <- summary(kmc, censored = TRUE)
w(data.frame(group = sub("contract=", "", as.character(sk$strata)), time = sk$time,
             n_risk = sk$n.risk, n_event = sk$n.event, surv = sk$surv, se_surv = sk$std.err,
             lower = sk$lower, upper = sk$upper), "telco_km_entry_contract.csv")
# log-rank with delayed entry = the score test of a Breslow Cox model on the group
lr <- coxph(Surv(entry, tenure, churn) ~ contract, data = tel, ties = "breslow")
w(data.frame(statistic = lr$score, df = 2, p_value = pchisq(lr$score, 2, lower.tail = FALSE)),
  "telco_logrank_entry.csv")
# Cox with entry, robust SE by customer
cx <- coxph(Surv(entry, tenure, churn) ~ sat + charge, data = tel, ties = "efron", robust = TRUE,
            id = id)
w(data.frame(term = names(coef(cx)), coef = unname(coef(cx)), se = sqrt(diag(cx$naive.var)),
             robust_se = sqrt(diag(vcov(cx)))), "telco_cox_entry.csv")
# RMST with entry: survfit's rmean at 36 months
rm <- summary(km, rmean = 36)$table
w(data.frame(tau = 36, rmst = rm[["rmean"]], se = rm[["se(rmean)"]]), "telco_rmst_entry.csv")

# ---------------------------------------------------------------- heart (jasa1): (start, stop]
h <- heart
h$rid <- seq_len(nrow(h))
w(h, "heart.csv")
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = h, ties = ties,
             cluster = id)
  w(data.frame(term = names(coef(f)), coef = unname(coef(f)), se = sqrt(diag(f$naive.var)),
               robust_se = sqrt(diag(vcov(f))), loglik = f$loglik[2]),
    sprintf("heart_cox_%s.csv", ties))
}

# ---------------------------------------------------------------- pbcseq: tmerge + tv Cox
temp <- subset(pbc, id <= 312, select = c(id, time, status, age, sex))
temp$sex <- as.integer(temp$sex == "f")
seq <- pbcseq[, c("id", "day", "bili", "albumin", "protime")]
w(temp, "pbc_base.csv")
w(seq, "pbcseq_log.csv")
pbc2 <- tmerge(temp, temp, id = id, death = event(time, status == 2))
pbc2 <- tmerge(pbc2, seq, id = id, bili = tdc(day, bili), albumin = tdc(day, albumin),
               protime = tdc(day, protime))
w(pbc2[, c("id", "tstart", "tstop", "death", "bili", "albumin", "protime")], "pbc_tmerge.csv")
f <- coxph(Surv(tstart, tstop, death) ~ age + log(bili) + log(protime) + log(albumin),
           data = pbc2, cluster = id)
w(data.frame(term = c("age", "log_bili", "log_protime", "log_albumin"), coef = unname(coef(f)),
             se = sqrt(diag(f$naive.var)), robust_se = sqrt(diag(vcov(f))), loglik = f$loglik[2]),
  "pbc_cox_tv.csv")
