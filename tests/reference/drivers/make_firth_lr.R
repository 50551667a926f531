# Reference values for the Firth penalised likelihood-ratio tests of workbench.drivers.models.lr_test.
# Regenerate from the repository root with:
#   Rscript tests/reference/drivers/make_firth_lr.R
# Reads endometrial.csv and lung_cox.csv (written by make_reference.R); writes firth_lr.json.
#
# The penalised LR statistic of Heinze & Schemper (2002), as R's logistf / coxphf compute it:
#   LR = 2 * ( max_b l*(b)  -  max_{b: b_j = 0} l*(b) ),   l*(b) = l(b) + 0.5 log|I(b)|
# where the restricted maximum keeps the FULL design (so the FULL model's penalty) and holds the tested
# coefficients at 0. For contrast the script also writes the statistic of the wrong test that refits
# the smaller design (its own, smaller penalty). Maximisation: optim (BFGS, then Nelder-Mead, then
# BFGS) at reltol 1e-16, started from brglm2's estimate (logistic) / the full optimum (Cox).
suppressPackageStartupMessages({library(brglm2); library(survival)})
here <- "tests/reference/drivers"
num <- function(v) paste0("[", paste(sprintf("%.15g", v), collapse = ", "), "]")
str_ <- function(v) paste0("[", paste0('"', v, '"', collapse = ", "), "]")

maximise <- function(f, start) {  # maximise f over the free coefficients
  if (length(start) == 0) return(f(numeric(0)))
  o <- optim(start, function(b) -f(b), method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
  if (length(start) > 1)
    o <- optim(o$par, function(b) -f(b), method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 20000))
  o <- optim(o$par, function(b) -f(b), method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
  -o$value
}

## ---------------------------------------------------------------- logistic: endometrial
e <- read.csv(file.path(here, "endometrial.csv"))
X <- model.matrix(~ NV + PI + EH, e); y <- e$HG
pll <- function(b, Xm = X) { eta <- Xm %*% b; p <- plogis(eta); W <- as.vector(p * (1 - p))
  sum(y * plogis(eta, log.p = TRUE) + (1 - y) * plogis(-eta, log.p = TRUE)) +
    0.5 * as.numeric(determinant(crossprod(Xm * sqrt(W)))$modulus) }
full <- glm(HG ~ NV + PI + EH, family = binomial, data = e, method = "brglmFit", type = "AS_mean",
            epsilon = 1e-12, maxit = 500)
b_full <- coef(full)
l_full <- maximise(function(b) pll(b), b_full)
tests_l <- list(c("NV"), c("PI"), c("EH"), c("PI", "EH"))
lr_l <- sapply(tests_l, function(tt) {
  j <- match(tt, colnames(X))
  l0 <- maximise(function(bo) { b <- numeric(ncol(X)); b[-j] <- bo; pll(b) }, b_full[-j])
  2 * (l_full - l0) })
wrong_l <- sapply(tests_l, function(tt) {
  j <- match(tt, colnames(X)); Xs <- X[, -j, drop = FALSE]
  l0 <- maximise(function(b) pll(b, Xs), b_full[-j])
  2 * (l_full - l0) })

## ---------------------------------------------------------------- Cox (Breslow): lung with z
d <- read.csv(file.path(here, "lung_cox.csv"))
vars <- c("age", "sex", "ph.ecog", "z")
cpl <- function(b, v = vars) tryCatch({
  f <- coxph(as.formula(paste("Surv(time, event) ~", paste(v, collapse = " + "))), data = d,
             ties = "breslow", init = b, control = coxph.control(iter.max = 0))
  f$loglik[2] - 0.5 * as.numeric(determinant(as.matrix(f$var))$modulus) }, error = function(err) -1e10)
start <- coef(coxph(Surv(time, event) ~ age + sex + ph.ecog, data = d, ties = "breslow"))
bf <- c(start, -1)
o <- optim(bf, function(b) -cpl(b), method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
bf <- o$par
l_cox <- maximise(function(b) cpl(b), bf)
tests_c <- list(c("age"), c("sex"), c("z"), c("sex", "ph.ecog"))
lr_c <- sapply(tests_c, function(tt) {
  j <- match(tt, vars)
  l0 <- maximise(function(bo) { b <- numeric(length(vars)); b[-j] <- bo; cpl(b) }, bf[-j])
  2 * (l_cox - l0) })
wrong_c <- sapply(tests_c, function(tt) {
  j <- match(tt, vars)
  l0 <- maximise(function(b) cpl(b, vars[-j]), bf[-j])
  2 * (l_cox - l0) })

cat("{",
    '"logistic_call": "glm(HG ~ NV + PI + EH, family = binomial, data = endometrial, method = \\"brglmFit\\", type = \\"AS_mean\\")",',
    '"logistic_tests": [', paste(sapply(tests_l, str_), collapse = ", "), "],",
    '"logistic_penalised_loglik": ', sprintf("%.15g", l_full), ",",
    '"logistic_lr": ', num(lr_l), ",",
    '"logistic_lr_wrong_reduced_penalty": ', num(wrong_l), ",",
    '"cox_call": "Surv(time, event) ~ age + sex + ph.ecog + z, ties = \\"breslow\\", lung complete cases (lung_cox.csv)",',
    '"cox_tests": [', paste(sapply(tests_c, str_), collapse = ", "), "],",
    '"cox_penalised_loglik": ', sprintf("%.15g", l_cox), ",",
    '"cox_lr": ', num(lr_c), ",",
    '"cox_lr_wrong_reduced_penalty": ', num(wrong_c),
    "}\n", file = file.path(here, "firth_lr.json"))
cat("written\n")
