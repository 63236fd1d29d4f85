# Reference values from R for analysis/stats/.
#
# Regenerate the committed fixture (from the repository root; needs only r-base-core):
#
#     Rscript analysis/R/make_reference.R tests/analysis/fixtures/r_reference.json
#
# Cases: hand-picked ones (including the degenerate inputs, where R stops with an error or
# returns NaN/NA, which is recorded) and random survey-like ones from a fixed seed. Numbers
# are written with 17 significant digits; NaN and NA are written as the strings "NaN" and
# "NA"; an R error is written as {"error": message}. No R package beyond base R is used.

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[[1]] else "tests/analysis/fixtures/r_reference.json"

# ---- JSON writing -------------------------------------------------------------------------

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
matrix_json <- function(m) {
  rows <- vapply(seq_len(nrow(m)), function(i) nums(m[i, ]), "")
  paste0("[", paste(rows, collapse = ", "), "]")
}
groups_json <- function(gs) paste0("[", paste(vapply(gs, nums, ""), collapse = ", "), "]")
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

# ---- Fisher -------------------------------------------------------------------------------

fisher_cases <- list()
add_fisher <- function(name, m) {
  res <- capture(fisher.test(m, workspace = 2e7))
  fields <- list(name = str1(name), table = matrix_json(m))
  if (is.null(res$error)) {
    fields$pvalue <- num1(res$value$p.value)
  } else {
    fields$error <- str1(res$error)
  }
  fisher_cases[[length(fisher_cases) + 1]] <<- do.call(obj, fields)
}

mk <- function(v, nr) matrix(v, nrow = nr, byrow = TRUE)
add_fisher("2x2 small", mk(c(3, 1, 1, 3), 2))
add_fisher("2x2 tea tasting", mk(c(4, 0, 0, 4), 2))
add_fisher("2x2 unbalanced", mk(c(12, 5, 3, 18), 2))
add_fisher("2x2 zero cell", mk(c(0, 7, 6, 2), 2))
add_fisher("2x2 large", mk(c(120, 87, 95, 140), 2))
add_fisher("2x2 very small p", mk(c(60, 2, 1, 70), 2))
add_fisher("2x2 symmetric tie", mk(c(3, 3, 3, 3), 2))
add_fisher("2x2 symmetric tie 2", mk(c(5, 2, 2, 5), 2))
add_fisher("2x3", mk(c(2, 5, 3, 6, 1, 4), 2))
add_fisher("3x3", mk(c(2, 3, 4, 5, 1, 0, 0, 2, 6), 3))
add_fisher("3x3 symmetric tie", mk(c(2, 1, 1, 1, 2, 1, 1, 1, 2), 3))
add_fisher("3x3 symmetric tie 2", mk(c(3, 1, 0, 1, 3, 1, 0, 1, 3), 3))
add_fisher("3x3 all equal", mk(rep(2, 9), 3))
add_fisher("3x4", mk(c(5, 3, 2, 6, 4, 7, 1, 3, 2, 6, 8, 3), 3))
add_fisher("2x5 n=100", mk(c(10, 12, 8, 15, 5, 12, 10, 9, 11, 8), 2))
add_fisher("2x5 n=100 strong", mk(c(18, 14, 9, 6, 3, 2, 6, 11, 14, 17), 2))
add_fisher("4x4 sparse", mk(c(1, 0, 0, 2, 0, 3, 1, 0, 2, 0, 0, 1, 0, 1, 4, 0), 4))
add_fisher("3x6 n=150", mk(c(11, 4, 11, 7, 5, 5, 6, 6, 11, 3, 7, 6, 13, 5, 16, 8, 18, 8), 3))
add_fisher("5x5 n=80", mk(c(3, 1, 1, 0, 0, 4, 2, 2, 3, 1, 6, 5, 2, 5, 3, 10, 3, 6, 5, 4, 6, 2, 2, 2, 2), 5))
add_fisher("5x2 (transposed shape)", mk(c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3), 5))
add_fisher("zero row 2x3", mk(c(1, 2, 3, 0, 0, 0), 2))
add_fisher("zero row 3x3", mk(c(1, 2, 3, 0, 0, 0, 4, 1, 2), 3))
add_fisher("zero column 2x3", mk(c(1, 2, 0, 3, 4, 0), 2))
add_fisher("zero column 2x2", mk(c(0, 3, 0, 4), 2))
add_fisher("all in one cell", mk(c(5, 0, 0, 0), 2))
add_fisher("all in one cell 2x3", mk(c(0, 0, 0, 0, 7, 0), 2))
add_fisher("single row 1x3", mk(c(1, 2, 3), 1))
add_fisher("all zero", matrix(0, 2, 3))
# A table about 2.2e-7 more probable than the observed one: counted by FEXACT's log
# tolerance 3.45254e-7 (r x c), not by the 2 x 2 rule 1e-7.
add_fisher("near tie 2x3", mk(c(3001, 2998, 1, 3001, 3000, 1), 2))
add_fisher("near tie 2x2", mk(c(3001, 2998, 3001, 3000), 2))

set.seed(20240917)
for (i in seq_len(36)) {
  nr <- sample(2:5, 1)
  nc <- sample(2:6, 1)
  cells <- nr * nc
  n <- if (cells <= 12) sample(10:200, 1) else if (cells <= 20) sample(10:100, 1) else sample(10:60, 1)
  w <- outer(runif(nr, 0.3, 2), runif(nc, 0.3, 2))
  if (runif(1) < 0.4) w <- w * matrix(runif(cells, 0.2, 3), nr, nc)  # some association
  m <- matrix(tabulate(sample(cells, n, replace = TRUE, prob = as.vector(w)), cells), nr, nc)
  add_fisher(sprintf("random %d: %dx%d n=%d", i, nr, nc, n), m)
}
# At the edge of what FEXACT computes with workspace = 2e7 (10 to 40 s each): most random
# 4 x 5 tables with n = 150 and 5 x 6 ones with n = 300 stop it with a workspace error.
add_fisher("4x5 n=150", mk(c(1, 6, 13, 3, 4, 2, 10, 6, 6, 2, 2, 10, 12, 4, 9,
                             7, 15, 17, 8, 13), 4))
add_fisher("5x6 n=300", mk(c(2, 3, 0, 0, 0, 0, 17, 34, 5, 1, 10, 1, 14, 24, 3, 0, 8, 0,
                             2, 2, 0, 0, 0, 0, 45, 90, 12, 0, 27, 0), 5))
# Beyond it: FEXACT stops with a workspace error (recorded as the case's "error").
add_fisher("5x6 n=300 beyond FEXACT", mk(c(6, 14, 5, 9, 4, 2, 2, 14, 8, 12, 8, 4,
                                           8, 12, 8, 17, 9, 6, 21, 18, 16, 28, 18, 16,
                                           3, 10, 5, 11, 4, 2), 5))

# ---- Wilcoxon rank sum --------------------------------------------------------------------

wilcox_cases <- list()
add_wilcox <- function(name, x, y, exact = NULL, correct = TRUE) {
  res <- capture(wilcox.test(x, y, exact = exact, correct = correct))
  fields <- list(
    name = str1(name), x = nums(x), y = nums(y),
    exact = if (is.null(exact)) "null" else bool1(exact), correct = bool1(correct)
  )
  if (is.null(res$error)) {
    fields$statistic <- num1(unname(res$value$statistic))
    fields$pvalue <- num1(res$value$p.value)
    fields$method <- str1(res$value$method)
    fields$warnings <- strs(res$warnings)
  } else {
    fields$error <- str1(res$error)
  }
  wilcox_cases[[length(wilcox_cases) + 1]] <<- do.call(obj, fields)
}

add_wilcox("small untied (exact)", c(1.1, 2.2, 3.3, 4.4), c(0.5, 2.5, 6, 7, 8))
add_wilcox("small untied, separated (exact)", c(1, 2, 3), c(4, 5, 6, 7))
add_wilcox("small untied, W above mean (exact)", c(10, 12, 9.5, 11), c(1, 3, 2, 9.7, 4))
add_wilcox("small tied (normal)", c(1, 2, 2, 3), c(2, 3, 4, 5))
add_wilcox("tied Likert (normal)", c(1, 2, 2, 3, 3, 3, 4, 5), c(3, 4, 4, 4, 5, 5, 5))
add_wilcox("unequal sizes untied (exact)", c(0.3, 1.7, 2.2), c(0.1, 0.9, 1.2, 2.5, 3.1, 3.3, 4.8, 5.0, 6.1))
add_wilcox("unequal sizes tied", c(2, 3), c(1, 2, 2, 3, 4, 4, 5, 5, 5, 5, 1, 2))
add_wilcox("n>=50 untied (normal)", (1:60) * 1.5 + 0.25, (1:55) * 1.6)
add_wilcox("n>=50 untied, exact requested", (1:60) * 1.5 + 0.25, (1:55) * 1.6, exact = TRUE)
add_wilcox("exact requested with ties", c(1, 2, 2, 3), c(2, 3, 4, 5), exact = TRUE)
add_wilcox("exact refused", c(1.1, 2.2, 3.3, 4.4), c(0.5, 2.5, 6, 7, 8), exact = FALSE)
add_wilcox("no continuity correction", c(1, 2, 2, 3, 5), c(2, 3, 4, 5, 5, 6), correct = FALSE)
add_wilcox("all identical", c(1, 1, 1), c(1, 1))
add_wilcox("one value each side", c(1), c(2))
add_wilcox("one value each side, x larger", c(3), c(2))
add_wilcox("equal values across, W at mean", c(1, 2), c(1, 2))
add_wilcox("missing values dropped", c(1, NA, 3, 4.5), c(2, 5, NA, 6))
add_wilcox("empty x", numeric(0), c(2, 3))
add_wilcox("empty y", c(2, 3), numeric(0))

set.seed(20240918)
for (i in seq_len(34)) {
  kind <- i %% 3
  if (kind == 0) {
    # Likert answers of two groups (ties: normal approximation)
    nx <- sample(3:60, 1); ny <- sample(3:60, 1)
    px <- prop.table(runif(5)); py <- prop.table(runif(5))
    x <- sample(1:5, nx, replace = TRUE, prob = px)
    y <- sample(1:5, ny, replace = TRUE, prob = py)
  } else if (kind == 1) {
    # continuous scores without ties, small (exact)
    nx <- sample(2:25, 1); ny <- sample(2:25, 1)
    v <- sample(1:100000, nx + ny) / 1000
    x <- v[seq_len(nx)]; y <- v[nx + seq_len(ny)] + sample(c(0, 10, 25), 1) / 1000
    if (anyDuplicated(c(x, y))) y <- y + 0.0001
  } else {
    # continuous without ties, larger (normal unless both < 50)
    nx <- sample(30:80, 1); ny <- sample(30:80, 1)
    v <- sample(1:1000000, nx + ny) / 100
    x <- v[seq_len(nx)]; y <- v[nx + seq_len(ny)]
  }
  add_wilcox(sprintf("random %d", i), x, y)
}

# ---- Kruskal-Wallis -----------------------------------------------------------------------

kruskal_cases <- list()
add_kruskal <- function(name, groups) {
  # The x/g form (empty groups vanish as unused factor levels), which analysis/stats/
  # follows; the list form's outcome is recorded as well.
  x <- unlist(groups)
  g <- factor(rep(seq_along(groups), lengths(groups)), levels = seq_along(groups))
  res <- capture(kruskal.test(x, g))
  res_list <- capture(kruskal.test(groups))
  fields <- list(name = str1(name), groups = groups_json(groups))
  if (is.null(res$error)) {
    fields$statistic <- num1(unname(res$value$statistic))
    fields$df <- num1(unname(res$value$parameter))
    fields$pvalue <- num1(res$value$p.value)
  } else {
    fields$error <- str1(res$error)
  }
  fields$list_form_error <- if (is.null(res_list$error)) "null" else str1(res_list$error)
  kruskal_cases[[length(kruskal_cases) + 1]] <<- do.call(obj, fields)
}

add_kruskal("3 groups untied", list(c(2.9, 3.0, 2.5, 2.6, 3.2), c(3.8, 2.7, 4.0, 2.4), c(2.8, 3.4, 3.7, 2.2, 2.0)))
add_kruskal("3 groups tied", list(c(1, 2, 3, 3), c(2, 3, 4, 4, 5), c(4, 5, 5, 5)))
add_kruskal("unequal sizes", list(c(1.5), c(2.5, 3.5, 0.5, 7.25), c(4.5, 6.5, 8.5, 9.5, 10.5, 11.5, 5.5)))
add_kruskal("two groups", list(c(1, 2, 3), c(4, 5, 6, 7)))
add_kruskal("single group", list(c(1, 2, 3)))
add_kruskal("all identical", list(c(3, 3, 3), c(3, 3), c(3, 3, 3, 3)))
add_kruskal("empty group dropped", list(c(1, 2, 3), numeric(0), c(4, 5)))
add_kruskal("one value per group", list(c(1), c(2), c(3)))
add_kruskal("identical groups", list(c(1, 2, 3), c(1, 2, 3)))
add_kruskal("missing values dropped", list(c(1, NA, 3), c(4, 5, NA), c(2, 6)))
add_kruskal("5 groups of Likert", list(
  c(1, 2, 2, 3, 3, 3, 4, 4, 5), c(2, 3, 3, 4, 4, 4, 5, 5), c(1, 1, 2, 2, 3, 3, 4),
  c(3, 4, 4, 5, 5, 5, 5, 4), c(2, 2, 3, 3, 3, 4, 1, 5, 2)
))

set.seed(20240919)
for (i in seq_len(32)) {
  k <- sample(2:6, 1)
  shift <- runif(1) < 0.5
  groups <- lapply(seq_len(k), function(j) {
    p <- prop.table(runif(5) + if (shift) (1:5) * (j - 1) / k else 0)
    sample(1:5, sample(3:40, 1), replace = TRUE, prob = p)
  })
  add_kruskal(sprintf("random %d: %d groups of Likert", i, k), groups)
}

# ---- Descriptive statistics and counts ----------------------------------------------------

describe_cases <- list()
add_describe <- function(name, v) {
  x <- v[!is.na(v)]
  q <- quantile(x, c(0.25, 0.75), names = FALSE)
  fields <- list(
    name = str1(name), values = nums(v), n = num1(length(x)),
    mean = num1(mean(x)), sd = num1(sd(x)), median = num1(median(x)),
    q1 = num1(q[1]), q3 = num1(q[2]), iqr = num1(IQR(x)),
    min = if (length(x)) num1(min(x)) else "\"NA\"",
    max = if (length(x)) num1(max(x)) else "\"NA\""
  )
  describe_cases[[length(describe_cases) + 1]] <<- do.call(obj, fields)
}
add_describe("1 to 10", 1:10)
add_describe("Likert with missing", c(1, 2, 2, 3, 3, 3, 4, 4, 5, NA, NA))
add_describe("single value", c(4))
add_describe("two values", c(2, 5))
add_describe("decimals", c(0.1, 0.7, 2.35, 2.35, 9.8, -1.25, 3.3333))
add_describe("large offsets", c(1e9 + 1, 1e9 + 2, 1e9 + 4))
add_describe("empty", numeric(0))
add_describe("all missing", c(NA, NA))
set.seed(20240920)
for (i in seq_len(10)) {
  v <- if (i %% 2) sample(1:5, sample(1:80, 1), replace = TRUE) else round(rnorm(sample(2:50, 1), 50, 15), 2)
  add_describe(sprintf("random %d", i), v)
}

counts_cases <- list()
add_counts <- function(name, v, levels) {
  tab <- table(factor(v, levels = levels))
  pct <- if (sum(tab) > 0) as.vector(100 * prop.table(tab)) else rep(NA_real_, length(tab))
  counts_cases[[length(counts_cases) + 1]] <<- obj(
    name = str1(name), values = nums(v), levels = nums(levels),
    n = nums(as.vector(tab)), percent = nums(pct)
  )
}
add_counts("Likert with missing and an unused level", c(1, 2, 2, 4, 4, 4, NA, 5, 1, NA), 1:5)
add_counts("three levels", c(3, 3, 1, 2, 3, 1, 3), 1:3)
add_counts("all missing", c(NA, NA), 1:3)

# ---- Output -------------------------------------------------------------------------------

section <- function(cases) paste0("[\n    ", paste(unlist(cases), collapse = ",\n    "), "\n  ]")
json <- paste0(
  "{\n",
  "  \"r_version\": ", str1(R.version.string), ",\n",
  "  \"generated_by\": ", str1(paste("Rscript analysis/R/make_reference.R", out_path)), ",\n",
  "  \"fisher\": ", section(fisher_cases), ",\n",
  "  \"wilcox\": ", section(wilcox_cases), ",\n",
  "  \"kruskal\": ", section(kruskal_cases), ",\n",
  "  \"describe\": ", section(describe_cases), ",\n",
  "  \"counts\": ", section(counts_cases), "\n",
  "}\n"
)
dir.create(dirname(out_path), recursive = TRUE, showWarnings = FALSE)
writeLines(json, out_path, sep = "")
cat(sprintf(
  "wrote %s: %d fisher, %d wilcox, %d kruskal, %d describe, %d counts cases\n",
  out_path, length(fisher_cases), length(wilcox_cases), length(kruskal_cases),
  length(describe_cases), length(counts_cases)
))
