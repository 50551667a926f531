# Reference values for workbench.drivers (Firth logistic, Cox, Firth-type Cox).
# Regenerate from the repository root with:
#   Rscript tests/reference/drivers/make_reference.R
# Writes, next to this script: endometrial.csv, firth_logistic.json, lung_cox.csv, cox.json.
# R packages: brglm2 (Firth = bias-reduced "AS_mean" for logistic), survival (coxph), jsonlite-free JSON.
suppressPackageStartupMessages({library(brglm2); library(survival)})
here <- "tests/reference/drivers"
tojson <- function(x) {
  f <- function(v) if (is.list(v)) paste0("{", paste0('"', names(v), '": ', sapply(v, f), collapse = ", "), "}")
                   else if (is.character(v) && length(v) == 1) paste0('"', gsub('"', '\\\\"', v), '"')
                   else if (is.character(v)) paste0("[", paste0('"', v, '"', collapse = ", "), "]")
                   else if (length(v) == 1 && is.null(names(v))) sprintf("%.15g", v)
                   else if (!is.null(names(v))) paste0("{", paste0('"', names(v), '": ', sprintf("%.15g", v), collapse = ", "), "}")
                   else paste0("[", paste(sprintf("%.15g", v), collapse = ", "), "]")
  f(x)
}

## ---------------------------------------------------------------- Firth logistic: endometrial
data("endometrial", package = "brglm2")
write.csv(endometrial, file.path(here, "endometrial.csv"), row.names = FALSE)
fit <- glm(HG ~ NV + PI + EH, family = binomial, data = endometrial, method = "brglmFit", type = "AS_mean",
           epsilon = 1e-12, maxit = 500)
co <- coef(fit); se <- sqrt(diag(vcov(fit)))
# Penalised profile-likelihood CIs (Heinze & Schemper 2002): independent implementation by optim().
X <- model.matrix(~ NV + PI + EH, endometrial); y <- endometrial$HG
pll <- function(b) { eta <- X %*% b; p <- plogis(eta); W <- as.vector(p * (1 - p))
  sum(y * plogis(eta, log.p = TRUE) + (1 - y) * plogis(-eta, log.p = TRUE)) + 0.5 * as.numeric(determinant(crossprod(X * sqrt(W)))$modulus) }
lmax <- pll(co)
prof <- function(j, v) { f <- function(bo) { b <- numeric(length(co)); b[j] <- v; b[-j] <- bo; -pll(b) }
  o <- optim(co[-j], f, method = "BFGS", control = list(reltol = 1e-15, maxit = 2000)); -o$value }
q <- qchisq(0.95, 1)
ci <- t(sapply(seq_along(co), function(j) {
  g <- function(v) 2 * (lmax - prof(j, v)) - q
  c(uniroot(g, c(co[j] - 8 * se[j], co[j]), tol = 1e-10)$root,
    uniroot(g, c(co[j], co[j] + 8 * se[j]), tol = 1e-10)$root) }))
ml <- suppressWarnings(glm(HG ~ NV + PI + EH, family = binomial, data = endometrial))
cat(tojson(list(call = 'glm(HG ~ NV + PI + EH, family = binomial, data = endometrial, method = "brglmFit", type = "AS_mean")',
                terms = names(co), coef = unname(co), se = unname(se),
                ci_lower = unname(ci[, 1]), ci_upper = unname(ci[, 2]),
                penalised_loglik = lmax, ml_coef_NV = unname(coef(ml)["NV"]))),
    file = file.path(here, "firth_logistic.json"))

## ---------------------------------------------------------------- Cox (Breslow), robust, Firth-type
d <- na.omit(survival::lung[, c("inst", "time", "status", "age", "sex", "ph.ecog")])
d$event <- as.integer(d$status == 2)
# a covariate with monotone likelihood: z = 1 only for censored subjects (no events when z = 1)
d$z <- as.integer(d$event == 0 & (seq_len(nrow(d)) %% 2 == 0))
write.csv(d[, c("inst", "time", "event", "age", "sex", "ph.ecog", "z")], file.path(here, "lung_cox.csv"),
          row.names = FALSE)
cx <- coxph(Surv(time, event) ~ age + sex + ph.ecog, data = d, ties = "breslow")
cr <- coxph(Surv(time, event) ~ age + sex + ph.ecog, data = d, ties = "breslow", cluster = inst)
# Firth-type Cox: maximise l(b) + 0.5 log|I(b)|, l and I from coxph at fixed b (iter.max = 0)
fml <- Surv(time, event) ~ age + sex + ph.ecog + z
cpl <- function(b) tryCatch({
  f <- coxph(fml, data = d, ties = "breslow", init = b, control = coxph.control(iter.max = 0))
  f$loglik[2] - 0.5 * as.numeric(determinant(f$var)$modulus) }, error = function(e) -1e10)
o <- optim(c(coef(cx), -1), function(b) -cpl(b), method = "BFGS", control = list(reltol = 1e-15, maxit = 5000))
o <- optim(o$par, function(b) -cpl(b), method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 20000))
o <- optim(o$par, function(b) -cpl(b), method = "BFGS", control = list(reltol = 1e-16, maxit = 5000))
bf <- o$par; lf <- cpl(bf)
profc <- function(v) { f <- function(bo) -cpl(c(bo, v)); -optim(bf[1:3], f, method = "BFGS",
  control = list(reltol = 1e-15, maxit = 2000))$value }
gz <- function(v) 2 * (lf - profc(v)) - q
ciz <- c(uniroot(gz, c(bf[4] - 15, bf[4]), tol = 1e-8)$root, uniroot(gz, c(bf[4], bf[4] + 15), tol = 1e-8)$root)
cat(tojson(list(call = 'coxph(Surv(time, event) ~ age + sex + ph.ecog, data = lung_cc, ties = "breslow")',
                terms = names(coef(cx)), coef = unname(coef(cx)), se = unname(sqrt(diag(cx$var))),
                loglik = cx$loglik[2], loglik_null = cx$loglik[1],
                robust_se = unname(sqrt(diag(cr$var))),
                firth_terms = c(names(coef(cx)), "z"), firth_coef = unname(bf), firth_penalised_loglik = lf,
                firth_z_ci = ciz)),
    file = file.path(here, "cox.json"))
cat("written\n")
