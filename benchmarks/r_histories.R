# R peer for benchmarks/histories.py: Rscript r_histories.R <data.bin> <nrow>
# Columns (float64, column-major): id, start, stop, event, satisfaction, complaint, second_spell.
# Reading is not timed; system.time() wraps coxph only. Prints one line: @@RESULT@@{json}.
suppressPackageStartupMessages(library(survival))
a <- commandArgs(TRUE)
n <- as.integer(a[2])
cols <- c("id", "start", "stop", "event", "satisfaction", "complaint", "second_spell")
m <- readBin(a[1], what = "double", n = n * length(cols))
dim(m) <- c(n, length(cols)); colnames(m) <- cols
d <- as.data.frame(m); rm(m)
st <- system.time(fit <- coxph(Surv(start, stop, event) ~ satisfaction + complaint + second_spell,
                               data = d, cluster = id, ties = "efron"))
cat("\n@@RESULT@@{\"seconds\": ", sprintf("%.3f", st[["elapsed"]]),
    ", \"cpu\": ", sprintf("%.3f", st[["user.self"]] + st[["sys.self"]]),
    ", \"coef\": [", paste(sprintf("%.15g", coef(fit)), collapse = ", "),
    "], \"robust_se\": [", paste(sprintf("%.15g", sqrt(diag(vcov(fit)))), collapse = ", "),
    "]}\n", sep = "")
