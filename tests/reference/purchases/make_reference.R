# Independent reference for workbench.purchases: the BG/NBD, Pareto/NBD, MBG/NBD and Gamma-Gamma
# log likelihoods written out here from the papers (no workbench code, no R package), maximised with
# optim on the log scale, on the CDNOW 1/10 sample summarised here from the raw file (same-day
# transactions merged, 39-week calibration to 1997-09-30, times in weeks = days / 7); BG/BB on the
# simulated pattern table bgbb_patterns.csv (written by the test module's generator).
# Run from the repository root:  Rscript tests/reference/purchases/make_reference.R
# Writes tests/reference/purchases/reference_values.csv (model, quantity, value).
args <- commandArgs(trailingOnly = TRUE)
cdnow <- if (length(args) >= 1) args[1] else "../shared/data/cdnow/CDNOW_sample.txt"
out_dir <- "tests/reference/purchases"

raw <- read.table(cdnow, header = FALSE, col.names = c("master", "id", "date", "qty", "amount"))
raw$day <- as.numeric(as.Date(as.character(raw$date), "%Y%m%d"))
occ <- aggregate(amount ~ id + day, data = raw, FUN = sum)          # same-day merge
cal_end <- as.numeric(as.Date("1997-09-30"))
first <- aggregate(day ~ id, data = occ, FUN = min); names(first)[2] <- "d0"
occ <- merge(occ, first, by = "id")
cal <- occ[occ$day <= cal_end, ]
x <- aggregate(day ~ id, data = cal, FUN = length); names(x)[2] <- "n"
last <- aggregate(day ~ id, data = cal, FUN = max); names(last)[2] <- "dl"
rep_amt <- aggregate(amount ~ id, data = cal[cal$day > cal$d0, ], FUN = mean); names(rep_amt)[2] <- "m"
cbs <- Reduce(function(a, b) merge(a, b, by = "id", all.x = TRUE), list(first, x, last, rep_amt))
cbs$x <- cbs$n - 1
cbs$tx <- (cbs$dl - cbs$d0) / 7
cbs$T <- (cal_end - cbs$d0) / 7
stopifnot(nrow(cbs) == 2357)

# Gauss hypergeometric 2F1(a, b; c; z) by its power series (|z| < 1 here), vectorised
h2f1 <- function(a, b, c, z) {
  term <- rep(1, length(z)); s <- term; j <- 0
  repeat {
    term <- term * (a + j) * (b + j) / ((c + j) * (j + 1)) * z
    s <- s + term; j <- j + 1
    if (!all(is.finite(s)) || max(abs(term / s)) < 1e-16 || j > 20000) break
  }
  s
}

bgnbd_ll <- function(p, x, tx, T) {
  r <- p[1]; al <- p[2]; a <- p[3]; b <- p[4]
  A1 <- lgamma(r + x) - lgamma(r) + r * log(al)
  A2 <- lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x)
  A3 <- -(r + x) * log(al + T)
  A4 <- ifelse(x > 0, log(a) - log(pmax(b + x - 1, 1e-300)) - (r + x) * log(al + tx), -Inf)
  A1 + A2 + pmax(A3, A4) + log(exp(A3 - pmax(A3, A4)) + exp(A4 - pmax(A3, A4)))
}
mbgnbd_ll <- function(p, x, tx, T) {
  r <- p[1]; al <- p[2]; a <- p[3]; b <- p[4]
  A1 <- lgamma(r + x) - lgamma(r) + r * log(al)
  A2 <- lgamma(a + b) + lgamma(b + x + 1) - lgamma(b) - lgamma(a + b + x + 1)
  A3 <- -(r + x) * log(al + T)
  A4 <- log(a) - log(b + x) - (r + x) * log(al + tx)
  A1 + A2 + pmax(A3, A4) + log(exp(A3 - pmax(A3, A4)) + exp(A4 - pmax(A3, A4)))
}
pnbd_ll <- function(p, x, tx, T) {
  r <- p[1]; al <- p[2]; s <- p[3]; be <- p[4]
  rsx <- r + s + x
  if (al >= be) { big <- al; b2 <- s + 1 } else { big <- be; b2 <- r + x }
  d <- abs(al - be)
  t1 <- h2f1(rsx, b2, rsx + 1, d / (big + tx)) / (big + tx)^rsx
  t2 <- h2f1(rsx, b2, rsx + 1, d / (big + T)) / (big + T)^rsx
  A0 <- t1 - t2
  lgamma(r + x) - lgamma(r) + r * log(al) + s * log(be) +
    log(1 / ((al + T)^(r + x) * (be + T)^s) + s / rsx * A0)
}
gg_ll <- function(p, x, m) {
  pp <- p[1]; q <- p[2]; g <- p[3]
  lgamma(pp * x + q) - lgamma(pp * x) - lgamma(q) + q * log(g) + (pp * x - 1) * log(m) +
    pp * x * log(x) - (pp * x + q) * log(g + x * m)
}
bgbb_ll <- function(p, x, tx, n) {
  al <- p[1]; be <- p[2]; ga <- p[3]; de <- p[4]
  head <- lbeta(al + x, be + n - x) - lbeta(al, be) + lbeta(ga, de + n) - lbeta(ga, de)
  out <- numeric(length(x))
  for (k in seq_along(x)) {
    i <- seq_len(n[k] - tx[k]) - 1
    tl <- lbeta(al + x[k], be + tx[k] - x[k] + i) - lbeta(al, be) + lbeta(ga + 1, de + tx[k] + i) - lbeta(ga, de)
    v <- c(head[k], tl); mx <- max(v)
    out[k] <- mx + log(sum(exp(v - mx)))
  }
  out
}

fit <- function(ll, start, w, ...) {
  f <- function(lp) { v <- -sum(w * ll(exp(lp), ...)); if (is.finite(v)) v else 1e100 }
  o <- optim(log(start), f, method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 20000))
  o <- optim(o$par, f, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
  o <- optim(o$par, f, method = "Nelder-Mead", control = list(reltol = 1e-16, maxit = 20000))
  o <- optim(o$par, f, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
  H <- optimHess(o$par, f); print(c(exp(o$par), -o$value))
  se_log <- sqrt(diag(solve(H)))
  list(par = exp(o$par), ll = -o$value, se = exp(o$par) * se_log)
}

rows <- list()
add <- function(model, names, res, extra = list()) {
  for (k in seq_along(names)) {
    rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = names[k], value = res$par[k])
    rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = paste0("se_", names[k]), value = res$se[k])
  }
  rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = "loglik", value = res$ll)
  for (nm in names(extra)) rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = nm, value = extra[[nm]])
}
w1 <- rep(1, nrow(cbs))
bg <- fit(bgnbd_ll, c(1, 3, 1, 3), w1, x = cbs$x, tx = cbs$tx, T = cbs$T)
# predictions at the R estimates (paper eq. 9-10): P(alive) and E[Y(39) | x, t_x, T], summed
bg_palive <- function(p, x, tx, T) ifelse(x > 0, 1 / (1 + p[3] / (p[4] + x - 1) * ((p[2] + T) / (p[2] + tx))^(p[1] + x)), 1)
bg_ce <- function(p, t, x, tx, T) {
  r <- p[1]; al <- p[2]; a <- p[3]; b <- p[4]
  (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t))^(r + x) * h2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))) *
    bg_palive(p, x, tx, T)
}
add("bgnbd", c("r", "alpha", "a", "b"), bg, list(
  sum_p_alive = sum(bg_palive(bg$par, cbs$x, cbs$tx, cbs$T)),
  sum_expected_39 = sum(bg_ce(bg$par, 39, cbs$x, cbs$tx, cbs$T)),
  n_customers = nrow(cbs), repeat_purchases = sum(cbs$x)))
pn <- fit(pnbd_ll, c(1, 1, 1, 1), w1, x = cbs$x, tx = cbs$tx, T = cbs$T)
pn_palive <- function(p, x, tx, T) {
  r <- p[1]; al <- p[2]; s <- p[3]; be <- p[4]; rsx <- r + s + x
  if (al >= be) { big <- al; b2 <- s + 1 } else { big <- be; b2 <- r + x }
  d <- abs(al - be)
  A0 <- h2f1(rsx, b2, rsx + 1, d / (big + tx)) / (big + tx)^rsx - h2f1(rsx, b2, rsx + 1, d / (big + T)) / (big + T)^rsx
  1 / (1 + s / rsx * (al + T)^(r + x) * (be + T)^s * A0)
}
pn_ce <- function(p, t, x, tx, T) {
  r <- p[1]; al <- p[2]; s <- p[3]; be <- p[4]
  (r + x) * (be + T) / ((al + T) * (s - 1)) * (1 - ((be + T) / (be + T + t))^(s - 1)) * pn_palive(p, x, tx, T)
}
add("paretonbd", c("r", "alpha", "s", "beta"), pn, list(
  sum_p_alive = sum(pn_palive(pn$par, cbs$x, cbs$tx, cbs$T)),
  sum_expected_39 = sum(pn_ce(pn$par, 39, cbs$x, cbs$tx, cbs$T))))
mb <- fit(mbgnbd_ll, c(1, 3, 1, 3), w1, x = cbs$x, tx = cbs$tx, T = cbs$T)
add("mbgnbd", c("r", "alpha", "a", "b"), mb)
rb <- cbs[cbs$x > 0, ]
gg <- fit(gg_ll, c(1, 1, 1), rep(1, nrow(rb)), x = rb$x, m = rb$m)
add("gammagamma", c("p", "q", "gamma"), gg, list(n_repeat_buyers = nrow(rb), mean_repeat_spend = mean(rb$m)))
pat <- read.csv(file.path(out_dir, "bgbb_patterns.csv"))
bb <- fit(bgbb_ll, c(1, 1, 1, 1), pat$count, x = pat$x, tx = pat$tx, n = pat$n)
add("bgbb", c("alpha", "beta", "gamma", "delta"), bb)
res <- do.call(rbind, rows)
write.csv(res, file.path(out_dir, "reference_values.csv"), row.names = FALSE)
print(res, digits = 12)
