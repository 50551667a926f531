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
# log-rank with delayed entry: survdiff refuses entry times ("Right censored data only").
# (1) without tied event times it is the score test of a Cox model on the group dummies
set.seed(14)
lt <- data.frame(entry = round(runif(400, 0, 10), 6), group = sample(c("a", "b", "c"), 400, TRUE))
lt$time <- lt$entry + round(rexp(400, ifelse(lt$group == "a", 0.10, ifelse(lt$group == "b", 0.14, 0.12))), 6)
lt$churn <- as.integer(runif(400) < 0.8)
w(lt, "logrank_entry_data.csv")
lr <- coxph(Surv(entry, time, churn) ~ group, data = lt, ties = "breslow")
w(data.frame(statistic = lr$score, df = 2, p_value = pchisq(lr$score, 2, lower.tail = FALSE)),
  "logrank_entry_untied.csv")
# (2) with ties (Telco months) the log-rank statistic with hypergeometric variance, written out:
# at each event time, at risk n_g = #(entry < t <= tenure) per group, as survdiff's algorithm
lrank <- function(entry, time, event, group) {
  g <- factor(group); k <- nlevels(g); ts <- sort(unique(time[event == 1]))
  O <- E <- numeric(k); V <- matrix(0, k, k)
  for (t in ts) {
    r <- entry < t & time >= t
    n <- tabulate(as.integer(g)[r], k); d <- tabulate(as.integer(g)[r & time == t & event == 1], k)
    N <- sum(n); D <- sum(d); p <- n / N
    O <- O + d; E <- E + D * p
    if (N > 1) V <- V + D * (N - D) / (N - 1) * (diag(p) - outer(p, p))
  }
  u <- (O - E)[-1]; chi <- drop(u %*% solve(V[-1, -1], u))
  data.frame(statistic = chi, df = k - 1, p_value = pchisq(chi, k - 1, lower.tail = FALSE))
}
w(lrank(tel$entry, tel$tenure, tel$churn, tel$contract), "telco_logrank_entry.csv")
chk <- lrank(rep(0, nrow(tel)), tel$tenure, tel$churn, tel$contract)
stopifnot(abs(chk$statistic - survdiff(Surv(tenure, churn) ~ contract, data = tel)$chisq) < 1e-8)
# Cox with entry, robust SE by customer
cx <- coxph(Surv(entry, tenure, churn) ~ sat + charge, data = tel, ties = "efron", robust = TRUE,
            id = id)
w(data.frame(term = names(coef(cx)), coef = unname(coef(cx)), se = sqrt(diag(cx$naive.var)),
             robust_se = sqrt(diag(vcov(cx)))), "telco_cox_entry.csv")
# cumulative incidence by churn category with delayed entry (Aalen-Johansen, IJ standard errors)
tel$cause <- ifelse(tel$churn == 1, st[match(tel$id, st[["Customer ID"]]), "Churn Category"], "censor")
causes <- sort(unique(tel$cause[tel$churn == 1]))
tel$cause_f <- factor(tel$cause, levels = c("censor", causes))
cf <- survfit(Surv(entry, tenure, cause_f) ~ 1, data = tel, id = id)
w(do.call(rbind, lapply(causes, function(k) {
  j <- match(k, cf$states)
  data.frame(cause = k, time = cf$time, estimate = cf$pstate[, j], se = cf$std.err[, j])
})), "telco_cif_entry.csv")
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

# ---------------------------------------------------------------- multi-state: win-back histories
# 300 simulated customers (workbench.data.histories.simulate_histories(300, seed=3), state_table;
# window_entry = floor(max(0, tenure at the analysis date - 24))):
# active -> churned -> reactivated -> churned_again, tenure in months since joining.
ms <- read.csv(file.path(here, "winback_states.csv"))
lev <- c("active", "churned", "reactivated", "churned_again")
ms$istate <- factor(ms$from_state, levels = lev)
ms$to <- factor(ms$to_state, levels = c("censored", lev))
msout <- function(fit, tag) {
  st <- fit$states
  out <- do.call(rbind, lapply(seq_along(st), function(j)
    data.frame(state = st[j], time = fit$time, estimate = fit$pstate[, j],
               se = fit$std.err[, j], lower = fit$lower[, j], upper = fit$upper[, j],
               n_risk = fit$n.risk[, j])))
  w(out, sprintf("ms_%s_pstate.csv", tag))
  tr <- fit$transitions
  ch <- do.call(rbind, lapply(seq_len(ncol(fit$cumhaz)), function(k)
    data.frame(transition = colnames(fit$cumhaz)[k], time = fit$time, cumhaz = fit$cumhaz[, k])))
  w(ch, sprintf("ms_%s_cumhaz.csv", tag))
  rm <- summary(fit, rmean = 60)$table
  w(data.frame(state = rownames(rm), rmean = rm[, "rmean"]),
    sprintf("ms_%s_rmean60.csv", tag))
}
f1 <- survfit(Surv(start, stop, to) ~ 1, data = ms, id = customer_id, istate = istate)
msout(f1, "full")
# left-truncated: each customer seen only in his last 24 months of tenure (delayed entry)
lt <- subset(ms, stop > window_entry)
lt$start <- pmax(lt$start, lt$window_entry)
f2 <- survfit(Surv(start, stop, to) ~ 1, data = lt, id = customer_id, istate = istate)
msout(f2, "window")
cx <- coxph(list(Surv(start, stop, to) ~ long_contract, 2:3 ~ contacted), data = ms,
            id = customer_id, istate = istate)
w(data.frame(term = names(coef(cx)), coef = unname(coef(cx)), robust_se = sqrt(diag(vcov(cx)))),
  "ms_cox.csv")
print(cx$cmap)
