#!/bin/sh
# Times "lmmbayes fit" (the whole CLI: start-up, CSV read, design, ML fit,
# summary) on sleepstudy and InstEval, median of RUNS runs each, with the
# median CPU time (user+sys, less sensitive than wall time to a shared
# machine) and the largest peak resident memory from GNU time's -v
# (/usr/bin/time; `apt-get install time` if it is missing). When R with
# lme4 is installed it also times lme4's lmer (REML = FALSE) on the same
# files in the same run, median of RUNS fits inside one R process (lmer
# only: R's start-up and read.csv are not counted), and prints the ratio.
# The machine (nproc, CPU model) and the load average before and after
# are printed too: the machine may be shared, so run it when the load is
# low.
# Usage: scripts/bench_fit.sh            (from the repository root)
#        RUNS=5 scripts/bench_fit.sh
set -eu
runs=${RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/lmmbayes
go build -o "$bin" ./cmd/lmmbayes

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(go version | awk '{print $3}')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# bench LABEL ARGS...: RUNS timed runs of the CLI; prints median wall
# seconds and the largest peak RSS, and sets $med.
bench() {
	label=$1; shift
	: >"$tmp/walls"
	: >"$tmp/cpus"
	maxrss=0
	i=0
	while [ "$i" -lt "$runs" ]; do
		# Wall time from date (GNU time prints only hundredths).
		s=$(date +%s.%N)
		if [ -x /usr/bin/time ]; then
			/usr/bin/time -v "$bin" fit "$@" >/dev/null 2>"$tmp/time"
		else
			"$bin" fit "$@" >/dev/null
		fi
		e=$(date +%s.%N)
		w=$(echo "$e $s" | awk '{printf "%.4f", $1 - $2}')
		if [ -x /usr/bin/time ]; then
			r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
			awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f\n", u + s}' "$tmp/time" >>"$tmp/cpus"
			if [ "$r" -gt "$maxrss" ]; then maxrss=$r; fi
		fi
		echo "$w" >>"$tmp/walls"
		i=$((i + 1))
	done
	med=$(median <"$tmp/walls")
	if [ "$maxrss" -gt 0 ]; then
		echo "lmmbayes $label: median wall $med s over $runs runs ($(tr '\n' ' ' <"$tmp/walls")), median CPU (user+sys) $(median <"$tmp/cpus") s, peak RSS $((maxrss / 1024)) MB"
	else
		echo "lmmbayes $label: median wall $med s over $runs runs (peak RSS: install GNU time for it)"
	fi
}

sleep_f='Reaction ~ Days + (Days | Subject)'
inst_f='y ~ service + (1|s) + (1|d) + (1|dept:service)'
inst_factors=s,d,dept,service,studage,lectage
bench "sleepstudy ML" --data testdata/sleepstudy.csv --formula "$sleep_f"
ours_sleep=$med
bench "insteval ML" --data testdata/insteval.csv --factors "$inst_factors" --formula "$inst_f"
ours_inst=$med

if Rscript -e 'suppressMessages(library(lme4))' >/dev/null 2>&1; then
	# lmer only, median of RUNS fits; prints "<median seconds> <lme4 version>".
	cat >"$tmp/lmer.R" <<'EOR'
suppressMessages(library(lme4))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = TRUE)
for (v in strsplit(a[2], ",")[[1]]) d[[v]] <- factor(d[[v]])
t <- replicate(as.integer(a[4]), system.time(lmer(as.formula(a[3]), d, REML = FALSE))[["elapsed"]])
cat(median(t), as.character(packageVersion("lme4")), "\n")
EOR
	lme4_time() { Rscript "$tmp/lmer.R" "$1" "$2" "$3" "$runs"; }
	set -- $(lme4_time testdata/sleepstudy.csv Subject "$sleep_f")
	echo "lme4 $2 sleepstudy ML: median lmer $1 s; lme4/lmmbayes $(echo "$1 $ours_sleep" | awk '{printf "%.1f", $1 / $2}')"
	set -- $(lme4_time testdata/insteval.csv s,d,dept,service "$inst_f")
	echo "lme4 $2 insteval ML: median lmer $1 s; lme4/lmmbayes $(echo "$1 $ours_inst" | awk '{printf "%.1f", $1 / $2}')"
else
	echo "R with lme4 not available: see lme4_seconds in testdata/lme4/*.json for lme4's times"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
