# Regenerates the survival reference values (KM, median CIs, log-rank, trend, RMST, survreg).
# Run from the project root:  Rscript tests/reference/survival/make_reference.R [telco_dir]
# R 4.x with survival 3.5-3. Outputs (CSV) next to this script; CI reads them, it never runs R.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
here <- "tests/reference/survival"
telco_dir <- if (length(args) >= 1) args[1] else "../shared/data/ibm-telco"

small <- read.csv(file.path(here, "small.csv"), stringsAsFactors = FALSE)
st <- read.csv(file.path(telco_dir, "Telco_customer_churn_status.csv"), stringsAsFactors = FALSE)
sv <- read.csv(file.path(telco_dir, "Telco_customer_churn_services.csv"), stringsAsFactors = FALSE)
telco <- merge(st[, c("Customer.ID", "Churn.Value")],
               sv[, c("Customer.ID", "Tenure.in.Months", "Contract", "Internet.Type", "Monthly.Charge")])
telco <- data.frame(tenure = telco$Tenure.in.Months, churned = telco$Churn.Value,
                    contract = telco$Contract, internet = telco$Internet.Type,
                    monthly_charge = telco$Monthly.Charge)
datasets <- list(telco = telco, small = small)

strata_name <- function(fit, n) {
  if (is.null(fit$strata)) rep("all", n) else sub("^[^=]*=", "", rep(names(fit$strata), fit$strata))
}

# ---- Kaplan-Meier curves (with Nelson-Aalen cumulative hazard) and median table ----------------
curves <- list(); medians <- list(); rmsts <- list()
cases <- list(
  list(data = "telco", group = "contract", weighted = FALSE, types = c("log", "log-log", "plain")),
  list(data = "telco", group = NA, weighted = FALSE, types = c("log", "log-log")),
  list(data = "small", group = "contract", weighted = FALSE, types = c("log", "log-log", "plain")),
  list(data = "small", group = "contract", weighted = TRUE, types = c("log", "log-log")),
  list(data = "small", group = NA, weighted = TRUE, types = c("log"))
)
for (cs in cases) {
  d <- datasets[[cs$data]]
  f <- if (is.na(cs$group)) Surv(tenure, churned) ~ 1 else as.formula(paste("Surv(tenure, churned) ~", cs$group))
  for (ct in cs$types) {
    fit <- if (cs$weighted) survfit(f, data = d, weights = w, conf.type = ct, robust = FALSE)
           else survfit(f, data = d, conf.type = ct)
    grp <- strata_name(fit, length(fit$time))
    curves[[length(curves) + 1]] <- data.frame(
      dataset = cs$data, group_col = ifelse(is.na(cs$group), "", cs$group), weighted = cs$weighted,
      ci_scale = ct, group = grp, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
      n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err, lower = fit$lower,
      upper = fit$upper, cumhaz = fit$cumhaz, std_chaz = fit$std.chaz)
    tab <- summary(fit, rmean = 24)$table
    if (is.null(dim(tab))) tab <- t(as.matrix(tab))
    rn <- if (is.na(cs$group)) "all" else sub("^[^=]*=", "", rownames(tab))
    medians[[length(medians) + 1]] <- data.frame(
      dataset = cs$data, group_col = ifelse(is.na(cs$group), "", cs$group), weighted = cs$weighted,
      ci_scale = ct, group = rn, n = tab[, "n.start"], events = tab[, "events"],
      median = tab[, "median"], lcl = tab[, "0.95LCL"], ucl = tab[, "0.95UCL"])
    if (ct == "log") {
      for (tau in c(12, 24, 60)) {
        tb <- summary(fit, rmean = tau)$table
        if (is.null(dim(tb))) tb <- t(as.matrix(tb))
        rmsts[[length(rmsts) + 1]] <- data.frame(
          dataset = cs$data, group_col = ifelse(is.na(cs$group), "", cs$group), weighted = cs$weighted,
          group = rn, tau = tau, rmean = tb[, "rmean"], se = tb[, "se(rmean)"])
      }
    }
  }
}
write.csv(do.call(rbind, curves), file.path(here, "km_curves.csv"), row.names = FALSE)

# ---- robust (infinitesimal jackknife) variance: R's default for non-integer weights ---------------
small$wr <- small$w / 3 + 0.1
rob <- list()
for (ct in c("log", "log-log")) {
  for (g in c("contract", "1")) {
    fit <- survfit(as.formula(paste("Surv(tenure, churned) ~", g)), data = small, weights = wr, conf.type = ct)
    rob[[length(rob) + 1]] <- data.frame(
      group_col = ifelse(g == "1", "", g), ci_scale = ct, group = strata_name(fit, length(fit$time)),
      time = fit$time, surv = fit$surv, std_err_surv = fit$std.err, lower = fit$lower, upper = fit$upper)
  }
}
write.csv(do.call(rbind, rob), file.path(here, "km_robust.csv"), row.names = FALSE)
write.csv(do.call(rbind, medians), file.path(here, "km_median.csv"), row.names = FALSE)
write.csv(do.call(rbind, rmsts), file.path(here, "rmst.csv"), row.names = FALSE)

# ---- log-rank (k groups, stratified, rho) and trend (Klein & Moeschberger 7.4 by hand) -------------
lr <- list()
trend_stat <- function(sd) {
  a <- seq_len(length(sd$n))
  oe <- if (is.matrix(sd$obs)) rowSums(sd$obs) - rowSums(sd$exp) else sd$obs - sd$exp
  z <- sum(a * oe) / sqrt(drop(t(a) %*% sd$var %*% a))
  z
}
lcases <- list(
  list(data = "telco", strata = NA, rho = 0), list(data = "telco", strata = "internet", rho = 0),
  list(data = "telco", strata = NA, rho = 1),
  list(data = "small", strata = NA, rho = 0), list(data = "small", strata = "region", rho = 0),
  list(data = "small", strata = NA, rho = 1), list(data = "small", strata = "region", rho = 0.5)
)
for (cs in lcases) {
  d <- datasets[[cs$data]]
  f <- if (is.na(cs$strata)) Surv(tenure, churned) ~ contract
       else as.formula(paste("Surv(tenure, churned) ~ contract + strata(", cs$strata, ")"))
  sd <- survdiff(f, data = d, rho = cs$rho)
  obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
  ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
  z <- trend_stat(sd)
  lr[[length(lr) + 1]] <- data.frame(
    dataset = cs$data, strata = ifelse(is.na(cs$strata), "", cs$strata), rho = cs$rho,
    group = sub("^[^=]*=", "", names(sd$n)), observed = obs, expected = ex,
    chisq = sd$chisq, df = length(sd$n) - 1, trend_z = z)
}
write.csv(do.call(rbind, lr), file.path(here, "logrank.csv"), row.names = FALSE)

# ---- pairwise log-rank: survdiff on each pair's customers, Holm-adjusted (p.adjust) -------------
pw <- list()
for (dn in c("telco", "small")) {
  d <- datasets[[dn]]
  for (s in c("", ifelse(dn == "telco", "internet", "region"))) {
    lev <- sort(unique(d$contract))
    out <- NULL
    for (i in 1:(length(lev) - 1)) for (j in (i + 1):length(lev)) {
      sub <- d[d$contract %in% lev[c(i, j)], ]
      f <- if (s == "") Surv(tenure, churned) ~ contract
           else as.formula(paste("Surv(tenure, churned) ~ contract + strata(", s, ")"))
      sd <- survdiff(f, data = sub)
      out <- rbind(out, data.frame(dataset = dn, strata = s, group = lev[j], reference = lev[i],
                                   chisq = sd$chisq, p = pchisq(sd$chisq, 1, lower.tail = FALSE)))
    }
    out$p_holm <- p.adjust(out$p, method = "holm")
    pw[[length(pw) + 1]] <- out
  }
}
write.csv(do.call(rbind, pw), file.path(here, "pairwise_logrank.csv"), row.names = FALSE)

# ---- survreg: Weibull, log-normal, log-logistic -------------------------------------------------
sr <- list()
scases <- list(
  list(data = "telco", rhs = "1", weighted = FALSE),
  list(data = "telco", rhs = "contract + monthly_charge", weighted = FALSE),
  list(data = "small", rhs = "contract", weighted = TRUE),
  list(data = "small", rhs = "1", weighted = FALSE)
)
for (cs in scases) {
  d <- datasets[[cs$data]]
  f <- as.formula(paste("Surv(tenure, churned) ~", cs$rhs))
  for (dist in c("weibull", "lognormal", "loglogistic")) {
    fit <- if (cs$weighted) survreg(f, data = d, dist = dist, weights = w) else survreg(f, data = d, dist = dist)
    est <- c(coef(fit), "Log(scale)" = log(fit$scale))
    sr[[length(sr) + 1]] <- data.frame(
      dataset = cs$data, rhs = cs$rhs, weighted = cs$weighted, dist = dist, term = names(est),
      estimate = unname(est), se = unname(sqrt(diag(vcov(fit)))), loglik = fit$loglik[2])
  }
}
write.csv(do.call(rbind, sr), file.path(here, "survreg.csv"), row.names = FALSE)
cat("survival", as.character(packageVersion("survival")), "reference written\n")
