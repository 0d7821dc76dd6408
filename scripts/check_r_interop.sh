#!/bin/sh
# Checks that R reads lmmbayes output: rstan::read_stan_csv loads the draws
# files and the R posterior package's summary of them equals summary.csv.
# Needs R with rstan and posterior (Debian: apt-get install r-cran-rstan
# r-cran-posterior); skips cleanly when they are absent.
set -eu
cd "$(dirname "$0")/.."
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(rstan); library(posterior)' >/dev/null 2>&1; then
	echo "check_r_interop: skipped (R with rstan and posterior is not installed)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/lmmbayes" ./cmd/lmmbayes
for cfg in configs/sleepstudy.toml configs/politeness.toml; do
	"$tmp/lmmbayes" run "$cfg" --out "$tmp/run" --quiet --force >/dev/null
	printf '%s: ' "$cfg"
	Rscript scripts/check_r_interop.R "$tmp/run"
done
