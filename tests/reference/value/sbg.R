# Reference values for workbench.value.sbg: ML fit of the shifted-beta-geometric model to the
# "regular" and "high end" cohorts of Fader & Hardie (2007), "How to project customer retention",
# J. Interactive Marketing 21(1), 76-90 (Table 1 / Figure 1 data), and DERL (Fader & Hardie 2010,
# Marketing Science 29(1)) by direct summation of the series.
# Regenerate:  Rscript tests/reference/value/sbg.R   (writes sbg_reference.csv next to this script)
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
cohorts <- list(
  regular  = c(1000, 631, 468, 382, 326, 289, 262, 241),
  high_end = c(1000, 869, 743, 653, 593, 551, 517, 491)
)
negll <- function(lp, s) {
  a <- exp(lp[1]); b <- exp(lp[2]); T <- length(s) - 1; t <- 1:T
  lost <- -diff(s)
  lp_t <- lbeta(a + 1, b + t - 1) - lbeta(a, b)
  ls_T <- lbeta(a, b + T) - lbeta(a, b)
  -(sum(lost * lp_t) + s[T + 1] * ls_T)
}
derl_series <- function(a, b, d, n) {   # sum_{t >= n} S(t) / S(n - 1) / (1 + d)^(t - n)
  t <- n:(n + 20000)
  sum(exp(lbeta(a, b + t) - lbeta(a, b + n - 1)) / (1 + d)^(t - n))
}
out <- NULL
for (nm in names(cohorts)) {
  s <- cohorts[[nm]]
  fit <- optim(c(0, 0), negll, s = s, method = "BFGS", control = list(reltol = 1e-14, maxit = 1000))
  fit <- optim(fit$par, negll, s = s, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 5000))
  H <- optimHess(fit$par, negll, s = s)
  V <- solve(H)
  a <- exp(fit$par[1]); b <- exp(fit$par[2])
  out <- rbind(out, data.frame(cohort = nm, alpha = a, beta = b, log_likelihood = -fit$value,
                               se_log_alpha = sqrt(V[1, 1]), se_log_beta = sqrt(V[2, 2]),
                               cov_log = V[1, 2],
                               derl_d10_n1 = derl_series(a, b, 0.10, 1),
                               derl_d10_n5 = derl_series(a, b, 0.10, 5),
                               survival_t12 = exp(lbeta(a, b + 12) - lbeta(a, b))))
}
write.csv(out, file.path(here, "sbg_reference.csv"), row.names = FALSE)
print(out, digits = 10)
