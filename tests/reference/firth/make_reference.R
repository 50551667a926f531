# Reference values for the Firth-penalised Cox model of the engine (workbench.survival.engine.cox_fit
# with firth = TRUE; fit_cox(..., firth = True)), computed independently of it.
# R's coxphf is not installable here (not in Debian), so the penalised likelihood of Heinze &
# Schemper (2001), l(b) + 0.5 log det I(b), is maximised directly: l(b) and I(b) come from
# survival::coxph evaluated at b (init = b, iter.max = 0: loglik[2] and var = I(b)^-1), and optim()
# (BFGS, then Nelder-Mead, then BFGS again, relative tolerance 1e-16) maximises it. Works for
# Breslow and Efron ties, strata, case weights and delayed entry alike (coxph computes l and I).
# The profile penalised-likelihood interval of the separating term: uniroot() of
# 2 (pl(hat) - max_others pl(b_j = v, others)) - qchisq(0.95, 1).
# Regenerate from the repository root (after make_data.py):
#   Rscript tests/reference/firth/make_reference.R
# Reads leak.csv, rossi.csv (next to this script) and the shared Telco files; writes firth.json.
suppressPackageStartupMessages(library(survival))
here <- "tests/reference/firth"
telco_dir <- "../shared/data/ibm-telco"
num <- function(v) sprintf("%.15g", v)
tojson_case <- function(x) paste0("{", paste0('"', names(x), '": ', sapply(x, function(v)
  if (is.character(v)) paste0("[", paste0('"', v, '"', collapse = ", "), "]")
  else if (length(v) == 1 && !is.na(v) && FALSE) num(v)
  else paste0("[", paste(num(v), collapse = ", "), "]")), collapse = ", "), "}")

# optim stops at about 1e-6 in flat directions; three Newton steps with a central-difference
# gradient (h = 1e-4: truncation ~1e-9) and optimHess's Hessian take the maximum to ~1e-9
newton_polish <- function(f, b, h = 1e-4, steps = 3) {
  for (k in seq_len(steps)) {
    g <- sapply(seq_along(b), function(j) { e <- replace(numeric(length(b)), j, h)
      (f(b + e) - f(b - e)) / (2 * h) })
    H <- optimHess(b, f, control = list(ndeps = rep(h, length(b))))
    b <- b - solve(H, g)
  }
  b
}

firth <- function(fml, data, ties, weights = NULL, profile_term = NULL) {
  environment(fml) <- environment()
  d <- data
  d$.w <- if (is.null(weights)) 1 else weights
  ml <- suppressWarnings(coxph(fml, data = d, ties = ties, weights = .w,
                               control = coxph.control(iter.max = 30)))
  p <- length(coef(ml))
  pl <- function(b) tryCatch({
    f <- suppressWarnings(coxph(fml, data = d, ties = ties, weights = .w, init = b,
                                control = coxph.control(iter.max = 0)))
    f$loglik[2] - 0.5 * as.numeric(determinant(f$var)$modulus)
  }, error = function(e) -1e10)
  ctl <- list(reltol = 1e-16, maxit = 5000, ndeps = rep(1e-5, p))
  start <- pmax(pmin(coef(ml), 5), -5)
  o <- optim(start, function(b) -pl(b), method = "BFGS", control = ctl)
  o <- optim(o$par, function(b) -pl(b), method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 20000))
  o <- optim(o$par, function(b) -pl(b), method = "BFGS", control = ctl)
  b <- newton_polish(pl, o$par)
  at <- suppressWarnings(coxph(fml, data = d, ties = ties, weights = .w, init = b,
                               control = coxph.control(iter.max = 0)))
  out <- list(terms = names(coef(ml)), coef = unname(b), se = unname(sqrt(diag(at$var))),
              penalised_loglik = pl(b), loglik = at$loglik[2])
  if (!is.null(profile_term)) {
    j <- match(profile_term, names(coef(ml)))
    lmax <- pl(b); q <- qchisq(0.95, 1)
    prof <- function(v) {
      if (p == 1) return(pl(v))
      f <- function(bo) { bb <- numeric(p); bb[j] <- v; bb[-j] <- bo; -pl(bb) }
      c1 <- list(reltol = 1e-16, maxit = 5000, ndeps = rep(1e-5, p - 1))
      o1 <- optim(b[-j], f, method = "BFGS", control = c1)
      o1 <- optim(o1$par, f, method = "BFGS", control = c1)
      -f(newton_polish(function(bo) -f(bo), o1$par, steps = 2))
    }
    g <- function(v) 2 * (lmax - prof(v)) - q
    out$profile_term <- profile_term
    out$profile_ci <- c(uniroot(g, c(b[j] - 20, b[j]), tol = 1e-10)$root,
                        uniroot(g, c(b[j], b[j] + 20), tol = 1e-10)$root)
  }
  out
}

cases <- list()
## ------------------------------------------------------------ a leaked covariate (monotone likelihood)
leak <- read.csv(file.path(here, "leak.csv"))
f1 <- Surv(tenure, churned) ~ leak + age + two_year
for (ties in c("breslow", "efron")) {
  cases[[paste0("leak_", ties)]] <- c(list(call = sprintf("coxph(Surv(tenure, churned) ~ leak + age + two_year, ties = '%s')", ties)),
    firth(f1, leak, ties, profile_term = "leak"))
}
cases[["leak_efron_strata_weights"]] <- c(
  list(call = "coxph(Surv(tenure, churned) ~ leak + age + two_year + strata(region), weights = weight, ties = 'efron')"),
  firth(Surv(tenure, churned) ~ leak + age + two_year + strata(region), leak, "efron", weights = leak$weight,
        profile_term = "leak"))
cases[["leak_breslow_entry"]] <- c(
  list(call = "coxph(Surv(entry, tenure, churned) ~ leak + age + two_year, ties = 'breslow')"),
  firth(Surv(entry, tenure, churned) ~ leak + age + two_year, leak, "breslow", profile_term = "leak"))

## ------------------------------------------------------------ lifelines' separation frames
for (nm in c("neg", "pos")) {
  x <- if (nm == "neg") -5:3 else 1:9
  fr <- data.frame(x = x, T = seq_along(x), E = 1)
  cases[[paste0("lifelines_", nm)]] <- c(list(call = sprintf("coxph(Surv(T, E) ~ x), x = %s", paste(x, collapse = ","))),
    firth(Surv(T, E) ~ x, fr, "efron", profile_term = "x"))
}
rossi <- read.csv(file.path(here, "rossi.csv"))
rossi$paro <- rossi$arrest
for (ties in c("breslow", "efron")) {
  cases[[paste0("rossi_paro_", ties)]] <- c(list(call = sprintf("coxph(Surv(week, arrest) ~ fin + age + paro, ties = '%s'), paro = arrest", ties)),
    firth(Surv(week, arrest) ~ fin + age + paro, rossi, ties, profile_term = "paro"))
}

## ------------------------------------------------------------ Telco: satisfaction as categories
st <- read.csv(file.path(telco_dir, "Telco_customer_churn_status.csv"), check.names = FALSE)
sv <- read.csv(file.path(telco_dir, "Telco_customer_churn_services.csv"), check.names = FALSE)
tl <- merge(st[, c("Customer ID", "Satisfaction Score", "Churn Value")],
            sv[, c("Customer ID", "Tenure in Months", "Contract")], by = "Customer ID")
tl <- tl[order(tl[["Customer ID"]], method = "radix"), ]  # byte order, any locale
tl <- tl[seq(1, nrow(tl), by = 4), ]  # every 4th customer by id: 1,761 customers
td <- data.frame(tenure = tl[["Tenure in Months"]], churned = tl[["Churn Value"]],
                 sat = factor(tl[["Satisfaction Score"]]),
                 contract = factor(tl[["Contract"]], levels = c("Month-to-Month", "One Year", "Two Year")))
for (ties in c("breslow", "efron")) {
  cases[[paste0("telco_sat_", ties)]] <- c(list(call = sprintf("coxph(Surv(tenure, churned) ~ sat + contract, ties = '%s'), every 4th Telco customer by id", ties)),
    firth(Surv(tenure, churned) ~ sat + contract, td, ties, profile_term = "sat5"))
}

body <- paste0('"', names(cases), '": ', sapply(cases, tojson_case), collapse = ",\n ")
cat(paste0("{", body, "}\n"), file = file.path(here, "firth.json"))
cat("written", length(cases), "cases\n")
