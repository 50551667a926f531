# Reference values for the flexible (default) specification of workbench.effects
# (tests/unit/test_effects_reference.py::test_flexible_propensity_matches_r_glm_with_ns).
# The rule is recomputed here from the data, independently of the Python code:
#   * smallest arm m; spline df = round(m^(1/5)) clamped to [3, 8]; knots = unique type-7
#     quantiles at seq(0.05, 0.95, length = df + 1); splines::ns with the inner knots and the
#     outer ones as Boundary.knots (the same space as Harrell's restricted cubic spline);
#   * a number with at most 10 distinct values: categories, end values with fewer than
#     max(1% of n, 10) customers pooled into their neighbour;
#   * no pairwise products here: the smallest arm has fewer than 20 customers per column.
# Regenerate: Rscript tests/reference/effects/flexible_reference.R  (R 4.x, stats, splines)
suppressMessages(library(splines))
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.csv(file.path(here, "input_synthetic.csv"), stringsAsFactors = FALSE)
d$A <- as.integer(d$loyalty_programme == "member")
d$contract <- factor(d$contract, levels = c("month_to_month", "one_year", "two_year"))
n <- nrow(d); m <- min(table(d$A))
df <- min(8, max(3, round(m^0.2)))
spl <- function(x) {
  k <- unique(quantile(x, seq(0.05, 0.95, length.out = df + 1), type = 7, names = FALSE))
  ns(x, knots = k[-c(1, length(k))], Boundary.knots = range(k))
}
pooled <- function(x) {
  v <- sort(unique(x)); cnt <- as.numeric(table(factor(x, levels = v)))
  g <- as.list(v); floor <- max(0.01 * n, 10)
  while (length(g) > 2 && cnt[length(cnt)] < floor) {
    k <- length(g); g[[k - 1]] <- c(g[[k - 1]], g[[k]]); g[[k]] <- NULL
    cnt[k - 1] <- cnt[k - 1] + cnt[k]; cnt <- cnt[-k]
  }
  while (length(g) > 2 && cnt[1] < floor) {
    g[[2]] <- c(g[[1]], g[[2]]); g[[1]] <- NULL; cnt[2] <- cnt[2] + cnt[1]; cnt <- cnt[-1]
  }
  cuts <- sapply(g[-1], min)
  factor(findInterval(x, cuts))
}
ps <- glm(A ~ contract + spl(monthly_charge) + pooled(n_complaints) + pooled(satisfaction) +
            spl(age), family = binomial, data = d)
out <- data.frame(name = "flexible_ps_fitted", index = seq_len(n) - 1, value = unname(fitted(ps)))
out <- rbind(out, data.frame(name = "flexible_ps_loglik", index = 0, value = as.numeric(logLik(ps))),
             data.frame(name = "flexible_df", index = 0, value = df))
write.csv(out, file.path(here, "flexible_reference.csv"), row.names = FALSE)
