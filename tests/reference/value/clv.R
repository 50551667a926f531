# Reference values for workbench.value.clv_by_segment: margin-weighted Kaplan-Meier (survfit with
# case weights = monthly margin), discounted area under the step curve to the horizon, times the
# mean margin; plus the unweighted RMST from print.survfit's restricted mean.
# Input: clv_input.csv (600 customers of workbench.data.simulate(600, seed=5), written by the test
# module's docstring command). Regenerate:  Rscript tests/reference/value/clv.R
library(survival)
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("--file=", "", args[grep("--file=", args)])))
d <- read.csv(file.path(here, "clv_input.csv"))
H <- 36
r_month <- (1 + 0.10)^(1 / 12) - 1
delta <- log(1 + r_month)
disc_area <- function(fit, H) {
  t <- fit$time; s <- fit$surv
  keep <- t <= H
  grid <- c(0, t[keep], H); level <- c(1, s[keep])
  sum(level * (exp(-delta * head(grid, -1)) - exp(-delta * grid[-1])) / delta)
}
out <- NULL
for (g in c("all", sort(unique(d$segment)))) {
  x <- if (g == "all") d else d[d$segment == g, ]
  fw <- survfit(Surv(tenure, churned) ~ 1, data = x, weights = monthly_margin)
  fu <- survfit(Surv(tenure, churned) ~ 1, data = x)
  rm <- summary(fu, rmean = H)$table[["rmean"]]
  out <- rbind(out, data.frame(group = g, customers = nrow(x), margin_per_month = mean(x$monthly_margin),
                               discounted_lifetime = disc_area(fw, H),
                               clv = mean(x$monthly_margin) * disc_area(fw, H), rmst_unweighted = rm))
}
write.csv(out, file.path(here, "clv_reference.csv"), row.names = FALSE)
print(out, digits = 10)
