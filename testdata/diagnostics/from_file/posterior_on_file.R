# posterior 1.4.0 run here (R 4.2.2, Debian r-cran-posterior) on the draws
# exactly as chain_1.csv ... chain_4.csv hold them (15 significant digits),
# for the one cell of expected.csv that the rounding of the files moves:
# R-hat of "heavy". expected.csv was computed before the draws were written.
# Run from testdata/diagnostics: Rscript from_file/posterior_on_file.R
suppressMessages(library(posterior))
ch <- lapply(1:4, function(k) read.csv(sprintf("chain_%d.csv", k), comment.char = "#"))
x <- sapply(ch, function(d) d$heavy)
write.csv(data.frame(variable = "heavy", rhat = sprintf("%.17g", rhat(x))),
          "from_file/expected_from_file.csv", row.names = FALSE, quote = FALSE)
