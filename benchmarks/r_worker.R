# R peer for benchmarks/run.py: Rscript r_worker.R <case> <data.bin> <data.cols> <nrow> <repeats>
# Data are float64 column-major (written once per size by run.py); reading them is not timed.
# Times come from system.time() around the model call only. Prints one line: @@RESULT@@{json}.
suppressPackageStartupMessages(library(survival))
a <- commandArgs(TRUE)
case <- a[1]; cols <- readLines(a[3]); n <- as.integer(a[4]); repeats <- as.integer(a[5])
m <- readBin(a[2], what = "double", n = n * length(cols))
dim(m) <- c(n, length(cols)); colnames(m) <- cols
d <- as.data.frame(m); rm(m)
covs <- c("sat_1", "sat_2", "sat_4", "sat_5", "contract_one_year", "contract_two_year",
          "n_products_c", "charge_10", "perceived_value_c", "age_10")
rhs <- paste(covs, collapse = " + ")
f_days <- as.formula(paste("Surv(tenure, churned) ~", rhs))
f_cont <- as.formula(paste("Surv(tenure_cont, churned) ~", rhs))
d$group <- factor(d$group)
run <- switch(case,
  cox_days = function() coxph(f_days, data = d, ties = "efron"),
  cox_continuous = function() coxph(f_cont, data = d, ties = "efron"),
  km_logrank = function() {
    survfit(Surv(tenure, churned) ~ group, data = d)
    survdiff(Surv(tenure, churned) ~ group, data = d)
  },
  stop("unknown case ", case))
times <- c(); cpu <- c()
for (i in seq_len(repeats)) {
  st <- system.time(res <- run())
  times <- c(times, st[["elapsed"]]); cpu <- c(cpu, st[["user.self"]] + st[["sys.self"]])
  if (i == 1 && st[["elapsed"]] > 10) break
}
check <- if (inherits(res, "coxph")) sprintf("%.15g", coef(res)) else character(0)
cat("\n@@RESULT@@{\"times\": [", paste(sprintf("%.4f", times), collapse = ", "),
    "], \"cpu\": [", paste(sprintf("%.4f", cpu), collapse = ", "),
    "], \"check\": [", paste(check, collapse = ", "), "]}\n", sep = "")
