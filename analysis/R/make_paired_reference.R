# Reference values from R for the paired and trend tests of analysis/stats/.
#
# Regenerate the committed fixture (from the repository root; needs only r-base-core):
#
#     Rscript analysis/R/make_paired_reference.R tests/analysis/fixtures/r_paired_reference.json
#
# Also the two-sample Wilcoxon rank-sum test with the Hodges-Lehmann shift and its interval
# (wilcox.test(x, y, conf.int = TRUE)), in the section "rank_sum_conf_int".
#
# Cases: hand-picked ones (the branches of each test, and the degenerate inputs, where R stops
# with an error or returns NaN/NA, which is recorded) and random survey-like ones from fixed
# seeds (5-level Likert answers at baseline and follow-up). Numbers are written with 17
# significant digits; NaN, NA and infinities as the strings "NaN", "NA", "Inf" and "-Inf"; an
# R error as {"error": message}; R's warnings as a list of messages. Base R only.

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[[1]] else "tests/analysis/fixtures/r_paired_reference.json"

# ---- JSON writing (as in make_reference.R) ------------------------------------------------

num1 <- function(x) {
  if (is.null(x) || length(x) == 0) return("null")
  if (is.nan(x)) return("\"NaN\"")
  if (is.na(x)) return("\"NA\"")
  if (is.infinite(x)) return(if (x > 0) "\"Inf\"" else "\"-Inf\"")
  sprintf("%.17g", x)
}
nums <- function(x) paste0("[", paste(vapply(as.numeric(x), num1, ""), collapse = ", "), "]")
str1 <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", " ", s)
  paste0("\"", s, "\"")
}
strs <- function(x) paste0("[", paste(vapply(as.character(x), str1, ""), collapse = ", "), "]")
bool1 <- function(b) if (isTRUE(b)) "true" else "false"
opt_bool <- function(b) if (is.null(b)) "null" else bool1(b)
matrix_json <- function(m) {
  rows <- vapply(seq_len(nrow(m)), function(i) nums(m[i, ]), "")
  paste0("[", paste(rows, collapse = ", "), "]")
}
obj <- function(...) {
  fields <- list(...)
  fields <- fields[!vapply(fields, is.null, TRUE)]
  body <- paste(sprintf("\"%s\": %s", names(fields), unlist(fields)), collapse = ", ")
  paste0("{", body, "}")
}

# Run expr; return list(value, error, warnings) instead of stopping or warning.
capture <- function(expr) {
  warnings <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(conditionMessage(e), class = "r_error")),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  if (inherits(value, "r_error")) {
    return(list(value = NULL, error = unclass(value), warnings = warnings))
  }
  list(value = value, error = NULL, warnings = warnings)
}

# Fill a case: on error only the inputs and the error, else the inputs and outputs().
finish <- function(fields, res, outputs) {
  if (is.null(res$error)) {
    fields <- c(fields, outputs(res$value))
  } else {
    fields$error <- str1(res$error)
  }
  fields$warnings <- strs(res$warnings)
  do.call(obj, fields)
}

# A 2 x 2 table given by rows, as analysis.stats takes it: [[a, b], [c, d]].
tab2 <- function(a, b, c, d) matrix(c(a, b, c, d), 2, byrow = TRUE)

# Likert answers at baseline and follow-up for n respondents, with some change and, if
# missing > 0, that share of answers missing on either side.
likert_pairs <- function(n, shift_prob, missing = 0) {
  base <- sample(1:5, n, replace = TRUE, prob = prop.table(runif(5) + 0.2))
  move <- sample(-1:2, n, replace = TRUE, prob = shift_prob)
  follow <- pmin(5, pmax(1, base + move))
  if (missing > 0) {
    base[runif(n) < missing] <- NA
    follow[runif(n) < missing] <- NA
  }
  list(x = follow, y = base)
}

# ---- Wilcoxon signed rank -----------------------------------------------------------------

signed_rank_cases <- list()
add_signed_rank <- function(name, x, y, correct = TRUE, exact = NULL, conf.level = 0.95) {
  res <- capture(wilcox.test(x, y, paired = TRUE, conf.int = TRUE, correct = correct,
                             exact = exact, conf.level = conf.level))
  fields <- list(name = str1(name), x = nums(x), y = nums(y), correct = bool1(correct),
                 exact = opt_bool(exact), conf_level = num1(conf.level))
  signed_rank_cases[[length(signed_rank_cases) + 1]] <<- finish(fields, res, function(v) list(
    statistic = num1(unname(v$statistic)), pvalue = num1(v$p.value),
    estimate = num1(unname(v$estimate)), estimate_name = str1(names(v$estimate)),
    conf_int = nums(v$conf.int), achieved_conf_level = num1(attr(v$conf.int, "conf.level")),
    method = str1(v$method)
  ))
}

sleep_a <- c(0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0)
sleep_b <- c(1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4)
add_signed_rank("sleep (ties, normal)", sleep_b, sleep_a)
add_signed_rank("small untied (exact)", c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
                c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29))
add_signed_rank("small untied, conf.level 0.9 (exact)",
                c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
                c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29), conf.level = 0.9)
add_signed_rank("small untied, conf.level 0.99 (exact)",
                c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
                c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29), conf.level = 0.99)
add_signed_rank("untied, all positive (exact)", c(3.1, 4.2, 5.3, 6.4, 7.5, 8.6), c(1, 1, 1, 1, 1, 1))
add_signed_rank("untied, n = 4: level not achievable (exact)", c(1.5, 2.25, -0.5, 3), c(0, 0, 0, 0))
add_signed_rank("single pair (exact)", 2, 0)
add_signed_rank("single negative pair (exact)", 0, 3.5)
add_signed_rank("two pairs (exact)", c(1, 5), c(2, 1))
add_signed_rank("Likert with ties and zeros (normal)",
                c(1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 2, 3), c(2, 2, 1, 5, 3, 3, 1, 2, 4, 2, 4, 1))
add_signed_rank("Likert, no correction, conf.level 0.9",
                c(1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 2, 3), c(2, 2, 1, 5, 3, 3, 1, 2, 4, 2, 4, 1),
                correct = FALSE, conf.level = 0.9)
add_signed_rank("zero difference without ties (normal)", c(1.5, 2.75, 3, 4.25, 6), c(0, 1, 3, 1, 2))
add_signed_rank("zero difference, exact requested", c(1.5, 2.75, 3, 4.25, 6), c(0, 1, 3, 1, 2),
                exact = TRUE)
add_signed_rank("ties, exact requested", c(2, 3, 4, 5, 1), c(1, 2, 2, 3, 3), exact = TRUE)
add_signed_rank("untied, exact refused", c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
                c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29), exact = FALSE)
add_signed_rank("untied, exact refused, no correction", c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
                c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29), exact = FALSE, correct = FALSE)
add_signed_rank("all differences zero", c(1, 2, 3), c(1, 2, 3))
add_signed_rank("one zero, one non-zero", c(1, 2), c(1, 0))
add_signed_rank("all non-zero differences equal", c(2, 3, 4), c(0, 1, 2))
add_signed_rank("two non-zero differences and a zero", c(1, 2, 0), c(0, 0, 0))
add_signed_rank("missing values dropped pairwise", c(1.2, NA, 3.4, 2.2, 5.1, 0.3, NaN),
                c(0.5, 1, NA, 2.9, 3.3, 1.1, 2))
add_signed_rank("no complete pair", c(NA, 1), c(2, NA))
add_signed_rank("unequal lengths", c(1, 2, 3), c(1, 2))
set.seed(11)
add_signed_rank("n = 60 untied (normal)", round(rnorm(60, 0.3), 4), round(rnorm(60), 4))
set.seed(12)
add_signed_rank("n = 60 untied, exact requested", round(rnorm(60, 0.3), 4), round(rnorm(60), 4),
                exact = TRUE)
set.seed(13)
add_signed_rank("n = 49 untied (exact)", round(rnorm(49, 0.2), 5), round(rnorm(49), 5))
set.seed(14)
add_signed_rank("n = 200 (normal)", round(rnorm(200, 0.1), 3), round(rnorm(200), 3), conf.level = 0.8)

set.seed(20250301)
for (i in seq_len(30)) {
  kind <- i %% 3
  if (kind == 0) {
    n <- sample(5:120, 1)
    pair <- likert_pairs(n, prop.table(runif(4)), missing = if (i %% 2) 0.05 else 0)
    add_signed_rank(sprintf("random %d: Likert n=%d", i, n), pair$x, pair$y,
                    conf.level = sample(c(0.9, 0.95, 0.99), 1))
  } else if (kind == 1) {
    n <- sample(3:45, 1)
    v <- sample(1:100000, 2 * n) / 1000
    add_signed_rank(sprintf("random %d: untied n=%d", i, n), v[seq_len(n)] + sample(0:3, 1),
                    v[n + seq_len(n)])
  } else {
    n <- sample(50:150, 1)
    add_signed_rank(sprintf("random %d: scores n=%d", i, n), round(rnorm(n, 50, 10)),
                    round(rnorm(n, 52, 10)), correct = (i %% 4 != 0))
  }
}

# ---- McNemar ------------------------------------------------------------------------------

mcnemar_cases <- list()
add_mcnemar <- function(name, m, correct = TRUE) {
  res <- capture(mcnemar.test(m, correct = correct))
  fields <- list(name = str1(name), table = matrix_json(m), correct = bool1(correct))
  mcnemar_cases[[length(mcnemar_cases) + 1]] <<- finish(fields, res, function(v) list(
    statistic = num1(unname(v$statistic)), pvalue = num1(v$p.value),
    df = num1(unname(v$parameter)), method = str1(v$method)
  ))
}
add_mcnemar("small", tab2(10, 5, 1, 12))
add_mcnemar("small, no correction", tab2(10, 5, 1, 12), correct = FALSE)
add_mcnemar("b + c = 0", tab2(5, 0, 0, 7))
add_mcnemar("b + c = 0, no correction", tab2(5, 0, 0, 7), correct = FALSE)
add_mcnemar("b = c (no correction applied)", tab2(5, 3, 3, 7))
add_mcnemar("b + c = 1", tab2(4, 1, 0, 4))
add_mcnemar("large", tab2(794, 86, 150, 570))
add_mcnemar("large, no correction", tab2(794, 86, 150, 570), correct = FALSE)
add_mcnemar("very small p", tab2(20, 2, 60, 30))
add_mcnemar("all concordant zero", tab2(0, 4, 9, 0))

# ---- Exact McNemar (binom.test on the discordant pairs) -----------------------------------

mcnemar_exact_cases <- list()
add_mcnemar_exact <- function(name, m, conf.level = 0.95) {
  b <- m[1, 2]
  c <- m[2, 1]
  res <- capture(binom.test(b, b + c, conf.level = conf.level))
  fields <- list(name = str1(name), table = matrix_json(m), conf_level = num1(conf.level))
  mcnemar_exact_cases[[length(mcnemar_exact_cases) + 1]] <<- finish(fields, res, function(v) list(
    pvalue = num1(v$p.value), proportion = num1(unname(v$estimate)),
    proportion_conf_int = nums(v$conf.int),
    odds_ratio = num1(b / c), odds_ratio_conf_int = nums(v$conf.int / (1 - v$conf.int))
  ))
}
add_mcnemar_exact("small", tab2(10, 5, 1, 12))
add_mcnemar_exact("b + c = 0", tab2(5, 0, 0, 7))
add_mcnemar_exact("n = 1", tab2(3, 1, 0, 2))
add_mcnemar_exact("n = 1, other way", tab2(3, 0, 1, 2))
add_mcnemar_exact("all one way", tab2(2, 9, 0, 4))
add_mcnemar_exact("balanced", tab2(2, 6, 6, 4))
add_mcnemar_exact("odd n, near the middle", tab2(2, 6, 7, 4))
add_mcnemar_exact("large", tab2(794, 86, 150, 570))
add_mcnemar_exact("conf.level 0.9", tab2(10, 12, 4, 3), conf.level = 0.9)
add_mcnemar_exact("conf.level 0.99", tab2(10, 30, 1, 3), conf.level = 0.99)

# ---- Sign test ----------------------------------------------------------------------------

sign_cases <- list()
add_sign <- function(name, x, y, conf.level = 0.95) {
  ok <- complete.cases(x, y)
  d <- x[ok] - y[ok]
  res <- capture(binom.test(sum(d > 0), sum(d != 0), conf.level = conf.level))
  fields <- list(name = str1(name), x = nums(x), y = nums(y), conf_level = num1(conf.level),
                 n_positive = num1(sum(d > 0)), n_negative = num1(sum(d < 0)),
                 zeros = num1(sum(d == 0)))
  sign_cases[[length(sign_cases) + 1]] <<- finish(fields, res, function(v) list(
    pvalue = num1(v$p.value), estimate = num1(unname(v$estimate)), conf_int = nums(v$conf.int)
  ))
}
add_sign("small", c(3, 4, 2, 5, 4, 3, 5, 1), c(2, 4, 1, 3, 5, 1, 2, 1))
add_sign("n = 1", c(2, 3), c(2, 1))
add_sign("all positive", c(5, 6, 7, 8, 9), c(1, 2, 3, 4, 5))
add_sign("all negative, conf.level 0.9", c(1, 2, 3, 1), c(4, 5, 6, 2), conf.level = 0.9)
add_sign("all zero", c(1, 2, 3), c(1, 2, 3))
add_sign("missing values dropped", c(1, NA, 3, 4, 5, 2), c(0, 1, NA, 5, 1, 1))
add_sign("balanced", c(2, 1, 2, 1, 2, 1), c(1, 2, 1, 2, 1, 2))

# ---- Spearman -----------------------------------------------------------------------------

spearman_cases <- list()
add_spearman <- function(name, x, y, exact = NULL, continuity = FALSE) {
  res <- capture(cor.test(x, y, method = "spearman", exact = exact, continuity = continuity))
  ok <- complete.cases(x, y)
  n <- sum(ok)
  ties <- min(length(unique(x[ok])), length(unique(y[ok]))) < n
  # which of cor.test's branches computes the p-value (its own rule, read from its source)
  branch <- if (ties || isFALSE(exact) || n > 1290) "t" else if (n <= 9) "exact" else "edgeworth"
  fields <- list(name = str1(name), x = nums(x), y = nums(y), exact = opt_bool(exact),
                 continuity = bool1(continuity))
  spearman_cases[[length(spearman_cases) + 1]] <<- finish(fields, res, function(v) list(
    estimate = num1(unname(v$estimate)), statistic = num1(unname(v$statistic)),
    pvalue = num1(v$p.value), method = str1(v$method), branch = str1(branch)
  ))
}
add_spearman("n = 2", c(1, 2), c(2, 1))
add_spearman("n = 2, t", c(1, 2), c(2, 1), exact = FALSE)
add_spearman("n = 3 perfect negative", 1:3, 3:1)
add_spearman("n = 3", 1:3, c(1, 3, 2))
add_spearman("n = 4", c(2.5, 1.2, 3.3, 4.8), c(1.1, 0.4, 2.2, 1.9))
add_spearman("n = 5", 1:5, c(2, 1, 4, 3, 5))
add_spearman("n = 6 negative", 1:6, c(6, 4, 5, 3, 1, 2))
add_spearman("n = 7", 1:7, c(3, 1, 2, 7, 5, 4, 6))
add_spearman("n = 8 near zero", 1:8, c(4, 8, 1, 5, 3, 7, 2, 6))
add_spearman("n = 9", 1:9, c(2, 1, 4, 3, 5, 9, 8, 6, 7))
add_spearman("n = 9 perfect", 1:9, 1:9)
add_spearman("n = 10 (Edgeworth)", 1:10, c(2, 1, 4, 3, 6, 5, 8, 7, 10, 9))
add_spearman("n = 12 perfect negative", 1:12, 12:1)
add_spearman("n = 15 t with continuity", 1:15, c(3, 1, 2, 5, 4, 6, 8, 7, 9, 11, 10, 12, 15, 13, 14),
             exact = FALSE, continuity = TRUE)
add_spearman("n = 20 perfect", 1:20, 1:20)
set.seed(21)
for (n in c(10, 11, 14, 18, 22, 25, 30)) {
  x <- rnorm(n)
  add_spearman(sprintf("n = %d (Edgeworth)", n), x, x * sample(c(-1, 1), 1) + rnorm(n, sd = 1.5))
}
set.seed(22)
x <- rnorm(1300)
add_spearman("n = 1300 (t)", x, x + rnorm(1300, sd = 5))
set.seed(23)
x <- rnorm(1290)
add_spearman("n = 1290 (Edgeworth)", x, x + rnorm(1290, sd = 8))
add_spearman("ties (t)", c(1, 2, 3, 4, 5, 6), c(1, 1, 2, 2, 3, 3))
add_spearman("ties, exact refused", c(1, 2, 3, 4, 5, 6), c(1, 1, 2, 2, 3, 3), exact = FALSE)
likert_x <- rep(c(1, 2, 2, 3, 4, 5, 5, 5, 3, 1), 3)
add_spearman("perfect with ties, n = 10", likert_x[1:10], likert_x[1:10])
add_spearman("perfect with ties, n = 30", likert_x, likert_x)
add_spearman("perfect negative with ties, n = 30", likert_x, -likert_x)
add_spearman("constant x", c(1, 1, 1), 1:3)
add_spearman("constant y", c(4, 2, 5, 1), c(2, 2, 2, 2))
add_spearman("missing values dropped", c(1, NA, 3, 4, 5, 2, 7), c(2, 1, NA, 5, 3, 1, 6))
add_spearman("one complete pair", c(1, NA), c(2, 3))

set.seed(20250302)
for (i in seq_len(24)) {
  if (i %% 2) {
    n <- sample(5:200, 1)
    pair <- likert_pairs(n, prop.table(runif(4)), missing = if (i %% 3) 0 else 0.05)
    add_spearman(sprintf("random %d: Likert n=%d", i, n), pair$x, pair$y)
  } else {
    n <- sample(3:40, 1)
    x <- sample(1:1000, n)
    y <- round(x * sample(c(-1, 1), 1) * runif(1) + sample(1:1000, n))
    while (anyDuplicated(y)) y[duplicated(y)] <- y[duplicated(y)] + 0.5
    add_spearman(sprintf("random %d: untied n=%d", i, n), x, y)
  }
}

# ---- Trend in proportions -----------------------------------------------------------------

trend_cases <- list()
add_trend <- function(name, x, n, score = NULL) {
  res <- capture(if (is.null(score)) prop.trend.test(x, n) else prop.trend.test(x, n, score))
  fields <- list(name = str1(name), successes = nums(x), totals = nums(n),
                 score = if (is.null(score)) "null" else nums(score))
  trend_cases[[length(trend_cases) + 1]] <<- finish(fields, res, function(v) list(
    statistic = num1(unname(v$statistic)), pvalue = num1(v$p.value),
    df = num1(unname(v$parameter))
  ))
}
add_trend("2 waves", c(15, 25), c(50, 50))
add_trend("3 waves", c(12, 18, 30), c(40, 45, 50))
add_trend("5 waves", c(83, 90, 129, 70, 78), c(86, 93, 136, 82, 108))
add_trend("5 waves, custom scores", c(83, 90, 129, 70, 78), c(86, 93, 136, 82, 108), c(0, 1, 2, 4, 8))
add_trend("3 waves, uneven scores", c(15, 10, 5), c(20, 20, 20), c(0, 1, 3))
add_trend("zero successes in a wave", c(0, 4, 9), c(20, 20, 20))
add_trend("all successes in a wave", c(20, 14, 9), c(20, 20, 20))
add_trend("no successes anywhere", c(0, 0, 0), c(10, 12, 9))
add_trend("all successes everywhere", c(10, 12, 9), c(10, 12, 9))
add_trend("flat", c(5, 5, 5), c(10, 10, 10))
add_trend("wave without answers", c(3, 0, 5), c(10, 0, 10))
add_trend("single wave", c(3), c(10))
add_trend("constant scores", c(3, 5, 4), c(10, 10, 10), c(1, 1, 1))
add_trend("decreasing, large", c(480, 430, 390, 350), c(1000, 1000, 1000, 1000))
set.seed(20250303)
for (i in seq_len(12)) {
  k <- sample(2:6, 1)
  n <- sample(5:200, k, replace = TRUE)
  p <- sort(runif(k, 0.1, 0.9), decreasing = runif(1) < 0.5)
  if (i %% 3 == 0) p <- rep(runif(1, 0.2, 0.8), k)
  x <- rbinom(k, n, p)
  add_trend(sprintf("random %d: %d waves", i, k), x, n,
            if (i %% 4 == 0) sort(sample(0:10, k)) else NULL)
}

# ---- Difference of paired proportions (Newcombe, method 10) --------------------------------

# Newcombe (1998), method 10: the Wilson intervals of the two margins (prop.test without
# continuity correction) combined with the phi coefficient, written out in base R.
newcombe_paired <- function(m, conf.level = 0.95) {
  a <- m[1, 1]; b <- m[1, 2]; c <- m[2, 1]; d <- m[2, 2]
  n <- a + b + c + d
  p_before <- (a + b) / n
  p_after <- (a + c) / n
  w_after <- prop.test(a + c, n, correct = FALSE, conf.level = conf.level)$conf.int
  w_before <- prop.test(a + b, n, correct = FALSE, conf.level = conf.level)$conf.int
  margins <- (a + b) * (c + d) * (a + c) * (b + d)
  phi <- if (margins > 0) (a * d - b * c) / sqrt(margins) else 0
  dl1 <- p_after - w_after[1]; du1 <- w_after[2] - p_after
  dl2 <- p_before - w_before[1]; du2 <- w_before[2] - p_before
  est <- p_after - p_before
  c(est, est - sqrt(dl1^2 - 2 * phi * dl1 * du2 + du2^2),
    est + sqrt(du1^2 - 2 * phi * du1 * dl2 + dl2^2))
}
paired_diff_cases <- list()
add_paired_diff <- function(name, m, conf.level = 0.95) {
  res <- capture(newcombe_paired(m, conf.level))
  fields <- list(name = str1(name), table = matrix_json(m), conf_level = num1(conf.level))
  paired_diff_cases[[length(paired_diff_cases) + 1]] <<- finish(fields, res, function(v) list(
    estimate = num1(v[1]), conf_int = nums(v[2:3])
  ))
}
add_paired_diff("small", tab2(10, 5, 1, 12))
add_paired_diff("moderate, 7 of 56 more say yes", tab2(12, 2, 9, 33))
add_paired_diff("no discordant pairs", tab2(5, 0, 0, 7))
add_paired_diff("all yes before and after", tab2(9, 0, 0, 0))
add_paired_diff("all changed to yes", tab2(0, 0, 8, 0))
add_paired_diff("zero cells", tab2(0, 3, 5, 0))
add_paired_diff("large", tab2(794, 86, 150, 570))
add_paired_diff("conf.level 0.9", tab2(10, 5, 1, 12), conf.level = 0.9)
add_paired_diff("conf.level 0.99", tab2(22, 11, 3, 40), conf.level = 0.99)
set.seed(20250304)
for (i in seq_len(8)) {
  n <- sample(10:300, 1)
  pair <- likert_pairs(n, prop.table(runif(4)))
  m <- table(factor(pair$y >= 4, c(TRUE, FALSE)), factor(pair$x >= 4, c(TRUE, FALSE)))
  add_paired_diff(sprintf("random %d: agree before/after n=%d", i, n), unclass(m)[, , drop = TRUE])
  add_mcnemar(sprintf("random %d: agree before/after n=%d", i, n), unclass(m)[, , drop = TRUE])
  add_mcnemar_exact(sprintf("random %d: agree before/after n=%d", i, n), unclass(m)[, , drop = TRUE])
  add_sign(sprintf("random %d: Likert n=%d", i, n), pair$x, pair$y)
}

# ---- Difference of two independent proportions (prop.test) --------------------------------

prop_diff_cases <- list()
add_prop_diff <- function(name, x1, n1, x2, n2, conf.level = 0.95, correct = TRUE) {
  res <- capture(prop.test(c(x1, x2), c(n1, n2), conf.level = conf.level, correct = correct))
  fields <- list(name = str1(name), x1 = num1(x1), n1 = num1(n1), x2 = num1(x2), n2 = num1(n2),
                 conf_level = num1(conf.level), correct = bool1(correct))
  prop_diff_cases[[length(prop_diff_cases) + 1]] <<- finish(fields, res, function(v) list(
    estimate = num1(unname(v$estimate[1] - v$estimate[2])), conf_int = nums(v$conf.int),
    statistic = num1(unname(v$statistic)), pvalue = num1(v$p.value), method = str1(v$method)
  ))
}
add_prop_diff("moderate", 83, 86, 90, 93)
add_prop_diff("different", 30, 50, 15, 50)
add_prop_diff("different, no correction", 30, 50, 15, 50, correct = FALSE)
add_prop_diff("equal proportions", 10, 20, 5, 10)
add_prop_diff("small counts", 1, 4, 3, 5)
add_prop_diff("zero and all", 0, 10, 10, 10)
add_prop_diff("no successes", 0, 10, 0, 12)
add_prop_diff("conf.level 0.9", 45, 120, 60, 110, conf.level = 0.9)
add_prop_diff("large", 4800, 10000, 4650, 10000)
add_prop_diff("empty group", 1, 0, 2, 5)
set.seed(20250305)
for (i in seq_len(8)) {
  n1 <- sample(5:400, 1); n2 <- sample(5:400, 1)
  add_prop_diff(sprintf("random %d", i), rbinom(1, n1, runif(1)), n1, rbinom(1, n2, runif(1)), n2)
}

# ---- Student's t distribution (used by the Spearman test) ---------------------------------

t_cases <- list()
for (df in c(1, 2, 3, 7.5, 28, 100, 1000, 5e5)) {
  for (t in c(-40, -8, -3, -1.5, -0.2, 0, 0.1, 1, 2.5, 6, 12, 1e3, 1e8, 1e60)) {
    t_cases[[length(t_cases) + 1]] <- obj(
      t = num1(t), df = num1(df), lower = num1(pt(t, df)), upper = num1(pt(t, df, lower.tail = FALSE))
    )
  }
}

# ---- Two-sample Wilcoxon rank sum with the Hodges-Lehmann shift ---------------------------

# (after the paired sections and with its own seeds, so that adding it left them unchanged)
rank_sum_ci_cases <- list()
add_rank_sum_ci <- function(name, x, y, correct = TRUE, exact = NULL, conf.level = 0.95) {
  res <- capture(wilcox.test(x, y, conf.int = TRUE, correct = correct, exact = exact,
                             conf.level = conf.level))
  fields <- list(name = str1(name), x = nums(x), y = nums(y), correct = bool1(correct),
                 exact = opt_bool(exact), conf_level = num1(conf.level))
  rank_sum_ci_cases[[length(rank_sum_ci_cases) + 1]] <<- finish(fields, res, function(v) list(
    statistic = num1(unname(v$statistic)), pvalue = num1(v$p.value),
    estimate = num1(unname(v$estimate)), estimate_name = str1(names(v$estimate)),
    conf_int = nums(v$conf.int), achieved_conf_level = num1(attr(v$conf.int, "conf.level")),
    method = str1(v$method)
  ))
}

# Likert answers of n respondents in one group (5 levels, weights drawn), some missing.
likert_group <- function(n, missing = 0) {
  v <- sample(1:5, n, replace = TRUE, prob = prop.table(runif(5) + 0.2))
  if (missing > 0) v[runif(n) < missing] <- NA
  v
}

hw_x <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)
hw_y <- c(1.15, 0.88, 0.90, 0.74, 1.21)
add_rank_sum_ci("small untied (exact)", hw_x, hw_y)
add_rank_sum_ci("small untied, conf.level 0.9 (exact)", hw_x, hw_y, conf.level = 0.9)
add_rank_sum_ci("small untied, conf.level 0.99 (exact)", hw_x, hw_y, conf.level = 0.99)
add_rank_sum_ci("small untied, conf.level 0.8 (exact)", hw_x, hw_y, conf.level = 0.8)
add_rank_sum_ci("small untied, exact refused", hw_x, hw_y, exact = FALSE)
add_rank_sum_ci("small untied, exact refused, no correction", hw_x, hw_y, exact = FALSE,
                correct = FALSE)
add_rank_sum_ci("separated samples (exact)", c(1, 2, 3), c(4, 5, 6, 7))
add_rank_sum_ci("separated samples, other way (exact)", c(4, 5, 6, 7), c(1, 2, 3))
add_rank_sum_ci("2 and 2: level not achievable (exact)", c(1, 2), c(3, 4))
add_rank_sum_ci("2 and 3: level not achievable (exact)", c(1.5, 2.5), c(0.25, 3.75, 1))
add_rank_sum_ci("3 and 3, conf.level 0.8 (exact)", c(1.5, 2.5, 4), c(0.25, 3.75, 1),
                conf.level = 0.8)
add_rank_sum_ci("one value each (exact)", 1, 2)
add_rank_sum_ci("one value each, other way (exact)", 2.5, -1)
add_rank_sum_ci("one value each, equal", 2, 2)
add_rank_sum_ci("one value against several", 3.5, c(1, 2, 4, 7, 8))
add_rank_sum_ci("identical samples", c(1, 2, 3), c(1, 2, 3))
add_rank_sum_ci("identical samples, no correction", c(1, 2, 3), c(1, 2, 3), correct = FALSE)
add_rank_sum_ci("identical Likert samples", c(1, 2, 2, 3, 4, 5, 5), c(1, 2, 2, 3, 4, 5, 5))
add_rank_sum_ci("all values the same", c(3, 3, 3), c(3, 3, 3))
add_rank_sum_ci("each sample constant, different", c(5, 5), c(3, 3, 3))
add_rank_sum_ci("ties (normal)", c(1, 1, 2), 2)
add_rank_sum_ci("ties, separated (normal)", c(1, 2, 2), c(5, 5))
add_rank_sum_ci("Likert with ties (normal)", c(1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 2, 3),
                c(2, 2, 1, 5, 3, 3, 1, 2, 4, 2, 4, 1, 3, 5))
add_rank_sum_ci("Likert, no correction, conf.level 0.9",
                c(1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 2, 3), c(2, 2, 1, 5, 3, 3, 1, 2, 4, 2, 4, 1, 3, 5),
                correct = FALSE, conf.level = 0.9)
add_rank_sum_ci("ties, exact requested", c(2, 3, 4, 5, 1), c(1, 2, 2, 3, 3), exact = TRUE)
add_rank_sum_ci("missing values dropped", c(1.2, NA, 3.4, 2.2, 5.1, 0.3, NaN),
                c(0.5, 1, NA, 2.9, 3.3, 1.1, 2))
add_rank_sum_ci("no y", c(1, 2), c(NA_real_, NA_real_))
add_rank_sum_ci("no x", c(NA_real_), c(1, 2))
set.seed(31)
add_rank_sum_ci("n = 60 and 55 untied (normal)", round(rnorm(60, 0.3), 4), round(rnorm(55), 4))
set.seed(32)
add_rank_sum_ci("n = 60 and 40 untied, exact requested", round(rnorm(60, 0.3), 4),
                round(rnorm(40), 4), exact = TRUE)
set.seed(33)
add_rank_sum_ci("n = 49 and 30 untied (exact)", round(rnorm(49, 0.2), 5), round(rnorm(30), 5))
set.seed(34)
add_rank_sum_ci("n = 200 and 150 (normal), conf.level 0.8", round(rnorm(200, 0.1), 3),
                round(rnorm(150), 3), conf.level = 0.8)
set.seed(35)
add_rank_sum_ci("n = 80 and 70 scores, no correction", round(rnorm(80, 50, 10)),
                round(rnorm(70, 53, 10)), correct = FALSE)

set.seed(20250306)
for (i in seq_len(30)) {
  kind <- i %% 3
  if (kind == 0) {
    nx <- sample(20:200, 1)
    ny <- sample(20:200, 1)
    add_rank_sum_ci(sprintf("random %d: Likert %d and %d", i, nx, ny),
                    likert_group(nx, missing = if (i %% 2) 0.05 else 0), likert_group(ny),
                    correct = (i %% 4 != 0), conf.level = sample(c(0.9, 0.95, 0.99), 1))
  } else if (kind == 1) {
    nx <- sample(2:45, 1)
    ny <- sample(2:45, 1)
    v <- sample(1:100000, nx + ny) / 1000
    add_rank_sum_ci(sprintf("random %d: untied %d and %d", i, nx, ny),
                    v[seq_len(nx)] + sample(0:30, 1), v[nx + seq_len(ny)],
                    conf.level = sample(c(0.8, 0.9, 0.95, 0.99), 1))
  } else {
    nx <- sample(20:200, 1)
    ny <- sample(20:200, 1)
    add_rank_sum_ci(sprintf("random %d: Likert %d and %d, shifted", i, nx, ny),
                    pmin(5, likert_group(nx) + sample(0:1, nx, replace = TRUE)),
                    likert_group(ny), conf.level = sample(c(0.9, 0.95), 1))
  }
}

# ---- Output -------------------------------------------------------------------------------

section <- function(cases) paste0("[\n    ", paste(unlist(cases), collapse = ",\n    "), "\n  ]")
json <- paste0(
  "{\n",
  "  \"r_version\": ", str1(R.version.string), ",\n",
  "  \"generated_by\": ", str1(paste("Rscript analysis/R/make_paired_reference.R", out_path)), ",\n",
  "  \"signed_rank\": ", section(signed_rank_cases), ",\n",
  "  \"mcnemar\": ", section(mcnemar_cases), ",\n",
  "  \"mcnemar_exact\": ", section(mcnemar_exact_cases), ",\n",
  "  \"sign_test\": ", section(sign_cases), ",\n",
  "  \"spearman\": ", section(spearman_cases), ",\n",
  "  \"trend\": ", section(trend_cases), ",\n",
  "  \"paired_difference\": ", section(paired_diff_cases), ",\n",
  "  \"proportion_difference\": ", section(prop_diff_cases), ",\n",
  "  \"t_distribution\": ", section(t_cases), ",\n",
  "  \"rank_sum_conf_int\": ", section(rank_sum_ci_cases), "\n",
  "}\n"
)
dir.create(dirname(out_path), recursive = TRUE, showWarnings = FALSE)
writeLines(json, out_path, sep = "")
cat(sprintf(
  "wrote %s: %d signed rank, %d McNemar, %d exact McNemar, %d sign, %d Spearman, %d trend, %d paired difference, %d proportion difference, %d t, %d rank sum cases\n",
  out_path, length(signed_rank_cases), length(mcnemar_cases), length(mcnemar_exact_cases),
  length(sign_cases), length(spearman_cases), length(trend_cases), length(paired_diff_cases),
  length(prop_diff_cases), length(t_cases), length(rank_sum_ci_cases)
))
