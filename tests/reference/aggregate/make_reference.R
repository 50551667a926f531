# Regenerates the reference values of tests/unit/test_aggregate_weights.py (Efron Cox from counts).
#
#   cd tests/reference/aggregate && Rscript make_reference.R
#
# Input:  cells.csv (committed; 20,000 synthetic customers aggregated to cells plan x region x
#         tenure (quarters, heavy ties) x churned with their count; written by
#         workbench.aggregate.synthetic.make_customers(20000, seed=11), tenure // 3).
# Output: efron.csv (case, term, estimate, se, loglik): coxph with Efron ties on the EXPANDED rows
#         (each cell repeated `count` times), i.e. what a row-level fit gives; the Python test fits
#         the cells with frequency weights and must agree.
# R survival 3.5.3 was used for the committed values.
suppressPackageStartupMessages(library(survival))
cells <- read.csv("cells.csv", stringsAsFactors = FALSE)
rows <- cells[rep(seq_len(nrow(cells)), cells$count), c("plan", "region", "tenure", "churned")]
rows$plan <- factor(rows$plan, levels = c("a", "b", "c"))
rows$region <- factor(rows$region, levels = c("north", "south"))
stopifnot(nrow(rows) == 20000)
out <- list()
add <- function(case, fit) {
  out[[length(out) + 1]] <<- data.frame(case = case, term = names(coef(fit)),
    estimate = unname(coef(fit)), se = unname(sqrt(diag(fit$var))), loglik = fit$loglik[2])
}
ctl <- coxph.control(eps = 1e-10, iter.max = 50)
add("efron", coxph(Surv(tenure, churned) ~ plan + region, data = rows, ties = "efron", control = ctl))
add("efron_strata", coxph(Surv(tenure, churned) ~ plan + strata(region), data = rows,
                          ties = "efron", control = ctl))
add("breslow", coxph(Surv(tenure, churned) ~ plan + region, data = rows, ties = "breslow",
                     control = ctl))
res <- do.call(rbind, out)
write.csv(res, "efron.csv", row.names = FALSE)
print(res, digits = 12)
