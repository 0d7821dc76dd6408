#!/bin/sh
# Times "lmmbayes fit" on the reference models (sleepstudy and InstEval ML)
# and, when R with lme4 is installed, lme4's lmer on the same data, printing
# the ratio. Peak memory comes from /usr/bin/time -v when available.
# Usage: scripts/bench_fit.sh   (run from the repository root)
set -eu
bin=$(mktemp -d)/lmmbayes
go build -o "$bin" ./cmd/lmmbayes
timeit() { # label, command...
	label=$1; shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -v "$@" >/dev/null 2>"$bin.time"
		wall=$(grep 'Elapsed (wall clock)' "$bin.time" | awk '{print $NF}')
		rss=$(grep 'Maximum resident set size' "$bin.time" | awk '{print $NF}')
		echo "$label: wall $wall, peak RSS $((rss / 1024)) MB"
	else
		start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
		echo "$label: wall $(echo "$end - $start" | bc) s"
	fi
}
timeit "lmmbayes sleepstudy ML" "$bin" fit --data testdata/sleepstudy.csv --formula 'Reaction ~ Days + (Days | Subject)'
timeit "lmmbayes insteval ML" "$bin" fit --data testdata/insteval.csv --factors s,d,dept,service,studage,lectage --formula 'y ~ service + (1|s) + (1|d) + (1|dept:service)'
if Rscript -e 'library(lme4)' >/dev/null 2>&1; then
	for m in sleepstudy insteval; do
		ours=$( { /usr/bin/env time -f %e "$bin" fit --data testdata/$m.csv --factors s,d,dept,service,studage,lectage \
			--formula "$( [ $m = sleepstudy ] && echo 'Reaction ~ Days + (Days | Subject)' || echo 'y ~ service + (1|s) + (1|d) + (1|dept:service)')" >/dev/null; } 2>&1 )
		theirs=$(Rscript -e "suppressMessages(library(lme4)); d <- read.csv('testdata/$m.csv');
			if ('$m' == 'insteval') { for (v in c('s','d','dept','service')) d[[v]] <- factor(d[[v]]); f <- y ~ service + (1|s) + (1|d) + (1|dept:service) } else { d\$Subject <- factor(d\$Subject); f <- Reaction ~ Days + (Days | Subject) };
			cat(system.time(lmer(f, d, REML = FALSE))[['elapsed']])")
		echo "$m: lmmbayes $ours s (whole CLI), lme4 $theirs s (lmer only), ratio $(echo "scale=1; $theirs / $ours" | bc)"
	done
else
	echo "R with lme4 not available: see testdata/lme4/*.json lme4_seconds for lme4's times"
fi
