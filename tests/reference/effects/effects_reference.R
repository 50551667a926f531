# Reference values for tests/unit/test_effects_reference.py (workbench.effects).
# Regenerate (input written once by make_input.py, committed):
#   Rscript tests/reference/effects/effects_reference.R
# R 4.x, survival 3.5.3. Output: effects_reference.csv (name, value).
suppressMessages(library(survival))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.csv(file.path(here, "input_synthetic.csv"), stringsAsFactors = FALSE)
out <- list()
put <- function(name, value) out[[name]] <<- unname(value)
H <- c(6, 12, 24); TAU <- 24

d$A <- as.integer(d$loyalty_programme == "member")
d$contract <- factor(d$contract, levels = c("month_to_month", "one_year", "two_year"))

# --- unadjusted KM, Greenwood, RMST, log-rank, Cox ------------------------------------------------
for (a in 0:1) {
  f <- survfit(Surv(tenure, churned) ~ 1, data = d[d$A == a, ])
  s <- summary(f, times = H, extend = TRUE)
  put(paste0("km_surv_", a), s$surv); put(paste0("km_se_", a), s$std.err)
  tb <- summary(f, rmean = TAU)$table
  put(paste0("km_rmst_", a), tb["rmean"]); put(paste0("km_rmst_se_", a), tb["se(rmean)"])
}
put("logrank_chisq", survdiff(Surv(tenure, churned) ~ A, data = d)$chisq)
m <- coxph(Surv(tenure, churned) ~ A, data = d, ties = "breslow")
put("cox_coef", coef(m)); put("cox_se", sqrt(vcov(m))[1])

# --- propensity (glm), stabilised IPW, weighted KM, weighted Cox ------------------------------------
ps <- glm(A ~ contract + monthly_charge + n_complaints + satisfaction + age, family = binomial, data = d)
put("ps_coef", coef(ps))
e <- fitted(ps)
put("ps_fitted_head", e[1:10])
p1 <- mean(d$A)
w <- ifelse(d$A == 1, p1 / e, (1 - p1) / (1 - e))
put("ipw_weights_head", w[1:10])
for (a in 0:1) {
  f <- survfit(Surv(tenure, churned) ~ 1, data = d[d$A == a, ], weights = w[d$A == a])
  put(paste0("ipw_surv_", a), summary(f, times = H, extend = TRUE)$surv)
  put(paste0("ipw_rmst_", a), summary(f, rmean = TAU)$table["rmean"])
}
mw <- coxph(Surv(tenure, churned) ~ A, data = d, weights = w, ties = "breslow")
put("ipw_cox_coef", coef(mw))
ow <- ifelse(d$A == 1, 1 - e, e)
for (a in 0:1) {
  f <- survfit(Surv(tenure, churned) ~ 1, data = d[d$A == a, ], weights = ow[d$A == a])
  put(paste0("overlap_surv_", a), summary(f, times = H, extend = TRUE)$surv)
}

# --- balance: SMD with the unweighted pooled SD ---------------------------------------------------
B <- cbind(sapply(levels(d$contract), function(l) as.numeric(d$contract == l)),
           d[, c("monthly_charge", "n_complaints", "satisfaction", "age")])
smd <- function(x, wt) {
  m1 <- weighted.mean(x[d$A == 1], wt[d$A == 1]); m0 <- weighted.mean(x[d$A == 0], wt[d$A == 0])
  (m1 - m0) / sqrt((var(x[d$A == 1]) + var(x[d$A == 0])) / 2)
}
put("smd_before", sapply(B, smd, wt = rep(1, nrow(d))))
put("smd_after", sapply(B, smd, wt = w))

# --- per-arm Cox outcome model (Breslow), pseudo-values, AIPW -------------------------------------
X <- model.matrix(~ contract + monthly_charge + n_complaints + satisfaction + age, d)[, -1]
pred <- list()
for (a in 0:1) {
  fa <- coxph(Surv(d$tenure[d$A == a], d$churned[d$A == a]) ~ X[d$A == a, ], ties = "breslow")
  put(paste0("outcome_coef_", a), coef(fa))
  bh <- basehaz(fa, centered = FALSE)
  risk <- exp(X %*% coef(fa))[, 1]
  H0 <- sapply(H, function(h) { k <- bh$time <= h; if (any(k)) max(bh$hazard[k]) else 0 })
  S <- exp(-outer(risk, H0))
  tt <- bh$time[bh$time < TAU]; hh <- bh$hazard[bh$time < TAU]
  grid <- c(0, tt, TAU); h0 <- c(0, hh)
  R <- exp(-outer(risk, h0)) %*% diff(grid)
  pred[[a + 1]] <- cbind(S, R)
  put(paste0("standardised_", a), colMeans(cbind(S, R)))
}
fit_all <- survfit(Surv(tenure, churned) ~ 1, data = d)
P <- cbind(pseudo(fit_all, times = H), pseudo(fit_all, times = TAU, type = "rmst"))
put("pseudo_head", as.vector(P[1:5, ]))
m1 <- pred[[2]]; m0 <- pred[[1]]
a1 <- m1 + (d$A / e) * (P - m1)
a0 <- m0 + ((1 - d$A) / (1 - e)) * (P - m0)
psi1 <- colMeans(a1); psi0 <- colMeans(a0)
phi <- sweep(a1, 2, psi1) - sweep(a0, 2, psi0)
put("aipw_psi1", psi1); put("aipw_psi0", psi0)
put("aipw_se_diff", apply(phi, 2, sd) / sqrt(nrow(d)))

# --- negative control: natural churn, weighted Cox, robust SE (Efron ties as lifelines) ----------
d$nat <- as.integer(!is.na(d$churn_type) & d$churn_type == "natural")
mn <- coxph(Surv(tenure, nat) ~ A, data = d, weights = w, robust = TRUE)
put("negctl_coef", coef(mn)); put("negctl_robust_se", sqrt(vcov(mn))[1])

# --- E-value (VanderWeele & Ding 2017), HR of a common outcome converted --------------------------
ev <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
hr2rr <- function(hr) (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
put("evalue_rr_3.9", ev(3.9)); put("evalue_rr_0.8", ev(0.8))
put("evalue_hr_0.85", ev(hr2rr(0.85))); put("evalue_hr_ci_0.95", ev(hr2rr(0.95)))

# --- power ------------------------------------------------------------------------------------------
s0 <- 0.75; hr <- 0.8; s1 <- s0^hr
put("power_prop_n", power.prop.test(p1 = s0, p2 = s1, power = 0.8, sig.level = 0.05)$n)
dd <- (qnorm(0.975) + qnorm(0.8))^2 / (0.25 * log(hr)^2)
lam0 <- -log(s0) / 12; lam1 <- lam0 * hr; acc <- 6; fu <- 12
pe <- function(l) 1 - (exp(-l * fu) - exp(-l * (acc + fu))) / (l * acc)
put("schoenfeld_events", dd); put("schoenfeld_n", dd / (0.5 * pe(lam1) + 0.5 * pe(lam0)))

# --- win-back: KM of time to reactivation among churners -----------------------------------------
c <- d[d$churned == 1 & !is.na(d$winback_contacted), ]
c$time <- pmax(ifelse(c$reactivated == 1, c$months_to_reactivation, c$months_observed_after_churn), 1e-6)
for (g in 0:1) {
  f <- survfit(Surv(time, reactivated) ~ 1, data = c[c$winback_contacted == g, ])
  s <- summary(f, times = 3, extend = TRUE)
  put(paste0("winback_react_", g), 1 - s$surv); put(paste0("winback_se_", g), s$std.err)
}
put("winback_logrank_chisq", survdiff(Surv(time, reactivated) ~ winback_contacted, data = c)$chisq)

res <- do.call(rbind, lapply(names(out), function(k) data.frame(name = k, index = seq_along(out[[k]]) - 1,
                                                               value = out[[k]])))
write.csv(res, file.path(here, "effects_reference.csv"), row.names = FALSE)
cat("wrote", nrow(res), "values\n")
