#!/bin/sh
# Sampler efficiency: sleepstudy, 4 chains × (1000 warmup + 5000 draws),
# GOMAXPROCS=2, the whole `lmmbayes run` process timed (design, mode
# search, sampling, diagnostics, writing the files). Prints the minimum
# bulk-ESS over b, sd, cor and sigma and that divided by the wall time.
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/lmmbayes" ./cmd/lmmbayes
runs=${RUNS:-3}
i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	start=$(date +%s.%N)
	GOMAXPROCS=2 "$out/lmmbayes" run configs/sleepstudy.toml --out "$out/run" \
		--warmup 1000 --draws 5000 --seed "$i" --quiet --force >/dev/null
	end=$(date +%s.%N)
	awk -F, -v t0="$start" -v t1="$end" -v run="$i" '
		NR > 1 && $1 !~ /^"?r_/ { if (min == "" || $11 + 0 < min) { min = $11 + 0; var = $1 } }
		END { w = t1 - t0; printf "run %d: wall %.3f s, min bulk-ESS %.0f (%s), %.0f ESS/s\n", run, w, min, var, min / w }
	' "$out/run/summary.csv"
done
