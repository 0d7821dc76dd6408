#!/usr/bin/env bash
# Side-by-side benchmark of lmmbayes, lme4 (lmer, ML) and rstanarm
# (stan_lmer, default priors) on the same files. See bench/README.md.
#
#   bench/run.sh [--quick] [--models a,b] [--repeats N] [--big-repeats N]
#                [--no-lme4] [--no-rstanarm] [--rstanarm-models a,b]
#                [--no-brms] [--brms-models a,b]
#                [--no-mcmc] [--chains N] [--warmup N] [--draws N]
#                [--big-warmup N] [--big-draws N] [--seed N]
#                [--sim-rows N --sim-subjects N --sim-items N]
#                [--scaling] [--scaling-chains N] [--scaling-warmup N]
#                [--scaling-draws N] [--out DIR] [--bin LMMBAYES]
#
# Models: sleepstudy politeness penicillin maximal insteval sim200k cbpp
# verbagg (default: all). maximal is the maximal 2 × 2 member of the test
# family (testdata/family/maximal.csv, rt ~ A * B + (1 + A * B | subj) +
# (1 + A * B | item)); rstanarm takes 2–10 minutes on it. cbpp and verbagg
# are the GLMMs of configs/cbpp.toml and configs/verbagg.toml (binomial and
# bernoulli), run from those configs with the chains, warmup, draws and
# seed given here, against brms (bench/brms.R, the same priors; its ESS/s
# divides by its sampling time summed over chains, warmup and compilation
# excluded, as issue 15 asks); brms takes about 10 minutes on verbagg.
# Every wall time is the median over the repeats of the whole process
# (reading the CSV included; R's start-up and library loading included for
# lme4 and rstanarm, whose in-call time is reported as inner_s too); peak RSS
# is the maximum over the repeats of /usr/bin/time -v's "Maximum resident set
# size". For MCMC, min bulk-ESS is over every b_, sd_, cor_ and sigma
# parameter, and ESS/s divides it by the median process wall time.
#
# Results: DIR/results.csv and DIR/results.md (default DIR bench/results).
# R and its packages are optional: a missing tool is skipped with a note
# (RSCRIPT=/path/to/Rscript picks the R front end).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

models="sleepstudy,politeness,penicillin,maximal,insteval,sim200k,cbpp,verbagg"
repeats=3
big_repeats=1
use_lme4=1
use_rstanarm=1
rstanarm_models="sleepstudy,politeness,penicillin,maximal"
use_brms=1
brms_models="cbpp,verbagg"
mcmc=1
chains=4
warmup=1000
draws=1000
big_warmup=500
big_draws=500
seed=1
sim_rows=200000
sim_subjects=5000
sim_items=300
scaling=0
scaling_chains=2
scaling_warmup=200
scaling_draws=300
out="$here/results"
bin=""

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) models="sleepstudy,politeness,penicillin"; repeats=1 ;;
	--models) models="$2"; shift ;;
	--repeats) repeats="$2"; shift ;;
	--big-repeats) big_repeats="$2"; shift ;;
	--no-lme4) use_lme4=0 ;;
	--no-rstanarm) use_rstanarm=0 ;;
	--rstanarm-models) rstanarm_models="$2"; shift ;;
	--no-brms) use_brms=0 ;;
	--brms-models) brms_models="$2"; shift ;;
	--no-mcmc) mcmc=0 ;;
	--chains) chains="$2"; shift ;;
	--warmup) warmup="$2"; shift ;;
	--draws) draws="$2"; shift ;;
	--big-warmup) big_warmup="$2"; shift ;;
	--big-draws) big_draws="$2"; shift ;;
	--seed) seed="$2"; shift ;;
	--sim-rows) sim_rows="$2"; shift ;;
	--sim-subjects) sim_subjects="$2"; shift ;;
	--sim-items) sim_items="$2"; shift ;;
	--scaling) scaling=1 ;;
	--scaling-chains) scaling_chains="$2"; shift ;;
	--scaling-warmup) scaling_warmup="$2"; shift ;;
	--scaling-draws) scaling_draws="$2"; shift ;;
	--out) out="$2"; shift ;;
	--bin) bin="$2"; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
work="$out/work"
mkdir -p "$work" "$here/data"
notes="$out/notes.txt"
: >"$notes"
note() { echo "$*" | tee -a "$notes" >&2; }

# --- tools -----------------------------------------------------------------
if [ -z "$bin" ]; then
	bin="$work/lmmbayes"
	(cd "$root" && go build -o "$bin" ./cmd/lmmbayes)
	(cd "$root" && go build -o "$work/simulate" ./bench/simulate)
	(cd "$root" && go build -o "$work/prof" ./bench/prof)
else
	(cd "$root" && go build -o "$work/simulate" ./bench/simulate)
	(cd "$root" && go build -o "$work/prof" ./bench/prof)
fi
timer=${GNU_TIME:-/usr/bin/time} # GNU time, for peak RSS
if ! [ -x "$timer" ] || ! "$timer" -v true >/dev/null 2>&1; then
	note "GNU time (/usr/bin/time) is missing: peak RSS is not measured (apt-get install -y time)"
	timer=""
fi
# RSCRIPT names the R front end (default Rscript on the PATH); when it is
# missing, lme4 and rstanarm are skipped.
rscript=${RSCRIPT:-Rscript}
have_r=0
if command -v "$rscript" >/dev/null 2>&1; then have_r=1; fi
r_has() { [ "$have_r" = 1 ] && "$rscript" -e "quit(status = !requireNamespace('$1', quietly = TRUE))" >/dev/null 2>&1; }
if [ "$use_lme4" = 1 ] && ! r_has lme4; then
	note "lme4 skipped: R or the lme4 package is not installed"
	use_lme4=0
fi
if [ "$use_rstanarm" = 1 ] && ! { r_has rstanarm && r_has posterior; }; then
	note "rstanarm skipped: R or the rstanarm/posterior packages are not installed"
	use_rstanarm=0
fi
if [ "$use_brms" = 1 ] && ! { r_has brms && r_has rstan && r_has posterior; }; then
	note "brms skipped: R or the brms/rstan/posterior packages are not installed"
	use_brms=0
fi

# --- the models ------------------------------------------------------------
sim_file="$here/data/sim_${sim_rows}_${sim_subjects}_${sim_items}_s${seed}.csv"
model_data() {
	case "$1" in
	sleepstudy) echo "$root/testdata/sleepstudy.csv" ;;
	politeness) echo "$root/testdata/politeness.csv" ;;
	penicillin) echo "$root/testdata/penicillin.csv" ;;
	maximal) echo "$root/testdata/family/maximal.csv" ;;
	insteval) echo "$root/testdata/insteval.csv" ;;
	sim200k) echo "$sim_file" ;;
	cbpp) echo "$root/testdata/glmm/cbpp.csv" ;;
	verbagg) echo "$root/testdata/glmm/verbagg.csv" ;;
	*) return 1 ;;
	esac
}
model_formula() {
	case "$1" in
	sleepstudy) echo "Reaction ~ Days + (Days | Subject)" ;;
	politeness) echo "frequency ~ attitude + gender + (1 | subject) + (1 | scenario)" ;;
	penicillin) echo "diameter ~ 1 + (1 | plate) + (1 | sample)" ;;
	maximal) echo "rt ~ A * B + (1 + A * B | subj) + (1 + A * B | item)" ;;
	insteval) echo "y ~ service + (1 | s) + (1 | d) + (1 | dept:service)" ;;
	sim200k) echo "y ~ x + (1 + x | subject) + (1 | item)" ;;
	cbpp) echo "cbind(incidence, size - incidence) ~ period + (1 | herd)" ;;
	verbagg) echo "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)" ;;
	esac
}
model_factors() {
	case "$1" in
	sleepstudy) echo "Subject" ;;
	politeness) echo "subject,scenario" ;;
	penicillin) echo "plate,sample" ;;
	maximal) echo "subj,item" ;;
	insteval) echo "s,d,studage,lectage,service,dept" ;;
	sim200k) echo "subject,item" ;;
	cbpp) echo "herd,period" ;;
	verbagg) echo "id,item" ;;
	esac
}
# model_family and brms_formula: the GLMMs' family and brms's spelling of
# the formula (0 + Intercept puts the prior on the real intercept).
model_family() {
	case "$1" in
	cbpp) echo binomial ;;
	verbagg) echo bernoulli ;;
	*) echo gaussian ;;
	esac
}
brms_formula() {
	case "$1" in
	cbpp) echo "incidence | trials(size) ~ 0 + Intercept + period + (1 | herd)" ;;
	verbagg) echo "r2 ~ 0 + Intercept + Anger + Gender + btype + situ + (1 | id) + (1 | item)" ;;
	esac
}
is_big() { case "$1" in insteval | sim200k) return 0 ;; *) return 1 ;; esac; }
in_list() { case ",$2," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# --- measuring -------------------------------------------------------------
# measure LABEL N CMD...: runs CMD N times; sets WALL (median seconds), RSS
# (max MB or NA) and LAST_OUT (stdout of the last run).
measure() {
	local label=$1 n=$2
	shift 2
	local walls=() rss=0 i t0 t1 w m
	for ((i = 1; i <= n; i++)); do
		if [ -n "$timer" ]; then
			# Wall time from the clock (time -v rounds to 10 ms), peak
			# RSS from time -v.
			t0=$(date +%s.%N)
			"$timer" -v -o "$work/time.txt" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt" || {
				note "$label: command failed (exit $?): $*"
				tail -3 "$work/stderr.txt" >&2
				return 1
			}
			t1=$(date +%s.%N)
			w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
			m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
			[ "$m" -gt "$rss" ] && rss=$m
		else
			t0=$(date +%s.%N)
			"$@" >"$work/stdout.txt" 2>"$work/stderr.txt" || {
				note "$label: command failed: $*"
				return 1
			}
			t1=$(date +%s.%N)
			w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
		fi
		walls+=("$w")
	done
	WALL=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	if [ -n "$timer" ]; then RSS=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }'); else RSS=NA; fi
	LAST_OUT=$(cat "$work/stdout.txt")
}

# kv KEY TEXT: the value of KEY=value in TEXT.
kv() { printf '%s\n' "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }' | tail -1; }

# summary_stats FILE: "min_ess var max_rhat var" over b_, sd_, cor_, sigma, shape.
summary_stats() {
	awk -F, 'NR > 1 && $1 ~ /^"?(b_|sd_|cor_|sigma|shape)/ {
		gsub(/"/, "", $1)
		if (ess == "" || $11 + 0 < ess) { ess = $11 + 0; ev = $1 }
		if (rh == "" || $10 + 0 > rh) { rh = $10 + 0; rv = $1 }
	} END { printf "%.1f %s %.4f %s\n", ess, ev, rh, rv }' "$1"
}

csv="$out/results.csv"
echo "model,tool,task,repeats,wall_s,inner_s,peak_rss_mb,min_ess_bulk,min_ess_var,max_rhat,ess_per_s,wall_ratio,ess_per_s_ratio" >"$csv"
row() { echo "$*" >>"$csv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.3f", a / b }'; }

machine="$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

for m in ${models//,/ }; do
	data=$(model_data "$m") || { note "unknown model $m"; continue; }
	formula=$(model_formula "$m")
	factors=$(model_factors "$m")
	n=$repeats
	w=$warmup
	d=$draws
	if is_big "$m"; then n=$big_repeats; w=$big_warmup; d=$big_draws; fi
	if [ "$m" = sim200k ] && ! [ -s "$sim_file" ]; then
		"$work/simulate" -rows "$sim_rows" -subjects "$sim_subjects" -items "$sim_items" -seed "$seed" -out "$sim_file" >&2
	fi
	echo "== $m ($(cut -d' ' -f1 /proc/loadavg) load)" >&2

	# ML fits.
	ours_fit=NA
	fam=$(model_family "$m")
	if measure "$m lmmbayes fit" "$n" "$bin" fit --data "$data" --formula "$formula" --factors "$factors" --family "$fam"; then
		ours_fit=$WALL
		row "$m,lmmbayes,ML fit,$n,$WALL,NA,$RSS,NA,NA,NA,NA,NA,NA"
	fi
	if [ "$use_lme4" = 1 ] && [ "$fam" != gaussian ]; then
		note "lme4 skipped on $m: bench/lme4.R times lmer (Gaussian) only; the glmer fits are compared in model/glmm_fit_test.go"
	elif [ "$use_lme4" = 1 ]; then
		if measure "$m lme4" "$n" "$rscript" "$here/lme4.R" "$data" "$formula" "$factors"; then
			inner=$(kv inner_s "$LAST_OUT")
			row "$m,lme4,ML fit,$n,$WALL,$inner,$RSS,NA,NA,NA,NA,NA,NA"
			# The lmmbayes row's ratio: our whole process / lme4's
			# time inside lmer() (R's start-up and read.csv excluded).
			r=$(ratio "$ours_fit" "$inner")
			sed -i "s/^$m,lmmbayes,ML fit,\(.*\),NA,NA\$/$m,lmmbayes,ML fit,\1,$r,NA/" "$csv"
		fi
	fi

	[ "$mcmc" = 1 ] || continue
	# Posterior.
	cfg="$work/$m.toml"
	if [ "$fam" != gaussian ]; then
		# The shipped config (its priors are brms.R's), output elsewhere.
		sed -e "s|^path = \"\.\./|path = \"$root/|" -e 's/^dir = .*/random_effects = false/' "$root/configs/$m.toml" >"$cfg"
	else {
		echo "[data]"
		echo "path = \"$data\""
		echo "factors = [$(echo "$factors" | sed 's/[^,][^,]*/"&"/g')]"
		echo "[model]"
		echo "formula = \"$formula\""
		echo "[output]"
		echo "random_effects = false"
	} >"$cfg"
	fi
	ours_eps=NA
	ours_wall=NA
	if measure "$m lmmbayes run" "$n" "$bin" run "$cfg" --out "$work/run_$m" --force --quiet \
		--chains "$chains" --warmup "$w" --draws "$d" --seed "$seed"; then
		read -r ess ev rh rv < <(summary_stats "$work/run_$m/summary.csv")
		ours_eps=$(ratio "$ess" "$WALL")
		ours_wall=$WALL
		inner=$(awk -F': ' '/^  "wall_seconds"/ { gsub(/,/, "", $2); printf "%.4f", $2; exit }' "$work/run_$m/run.json")
		row "$m,lmmbayes,MCMC $chains×($w+$d),$n,$WALL,${inner:-NA},$RSS,$ess,$ev,$rh,$ours_eps,NA,NA"
	fi
	if [ "$use_brms" = 1 ] && [ "$fam" != gaussian ]; then
		if ! in_list "$m" "$brms_models"; then
			note "brms skipped on $m: not in --brms-models"
		elif measure "$m brms" 1 "$rscript" "$here/brms.R" "$data" "$(brms_formula "$m")" "$factors" "$fam" "$chains" "$w" "$d" "$seed"; then
			ess=$(kv min_ess_bulk "$LAST_OUT")
			inner=$(kv inner_s "$LAST_OUT")
			note "brms on $m: sampling $(kv inner_s "$LAST_OUT") s, warmup $(kv warmup_s "$LAST_OUT") s (both summed over chains), compilation $(kv compile_s "$LAST_OUT") s"
			eps=$(ratio "$ess" "$inner")
			row "$m,brms,MCMC $chains×($w+$d),1,$WALL,$inner,$RSS,$ess,$(kv min_ess_var "$LAST_OUT"),$(kv max_rhat "$LAST_OUT"),$eps,NA,NA"
			r1=$(ratio "$ours_wall" "$inner")
			r2=$(ratio "$ours_eps" "$eps")
			sed -i "s/^\($m,lmmbayes,MCMC .*\),NA,NA\$/\1,$r1,$r2/" "$csv"
		fi
	fi
	if [ "$use_rstanarm" = 1 ] && [ "$fam" = gaussian ]; then
		if ! in_list "$m" "$rstanarm_models"; then
			if is_big "$m"; then
				note "rstanarm skipped on $m: stan_lmer builds a dense Z ($m has thousands of levels), so it does not finish in reasonable time"
			else
				note "rstanarm skipped on $m: not in --rstanarm-models"
			fi
		elif measure "$m rstanarm" "$n" "$rscript" "$here/rstanarm.R" "$data" "$formula" "$factors" "$chains" "$w" "$d" "$seed"; then
			ess=$(kv min_ess_bulk "$LAST_OUT")
			inner=$(kv inner_s "$LAST_OUT")
			# rstanarm's ESS/s uses its time inside stan_lmer() (R's
			# start-up excluded); ours uses our whole process.
			eps=$(ratio "$ess" "$inner")
			row "$m,rstanarm,MCMC $chains×($w+$d),$n,$WALL,$inner,$RSS,$ess,$(kv min_ess_var "$LAST_OUT"),$(kv max_rhat "$LAST_OUT"),$eps,NA,NA"
			r1=$(ratio "$ours_wall" "$inner")
			r2=$(ratio "$ours_eps" "$eps")
			sed -i "s/^\($m,lmmbayes,MCMC .*\),NA,NA\$/\1,$r1,$r2/" "$csv"
		fi
	fi
done

# --- scaling curve ---------------------------------------------------------
# At five sizes of the simulated model (rows and subjects ÷16 … ÷1, items
# ÷√16 … ÷1): one factorisation (prof factor: SetTheta, median wall and
# mean CPU of 20, median of 5 such batches), one Draw, the ML fit (whole
# process), and both sampler methods (prof sample, scaling_chains chains
# one at a time): the chains' wall and CPU time per iteration (iterations
# only, clocked by prof's DrawSink), CPU per iteration over CPU per
# factorisation (20 SetTheta calls timed in the same process just before
# and after the run: prof sample -factor 20), the set-up outside the iterations (the mode search), min
# bulk-ESS and max R-hat over b, sd, cor, sigma, and ESS/s. prof runs with
# GOMAXPROCS=1, so that every kernel is single-threaded and CPU time is the
# cost on one core. The method auto picks runs first as "auto" (its run is
# the same as that method's, same seed); the other method runs explicitly.
if [ "$scaling" = 1 ]; then
	scsv="$out/scaling.csv"
	sreasons="$out/scaling_auto.txt"
	: >"$sreasons"
	mcols="s_per_iter,cpu_per_iter,cpu_per_factorisation,settheta_cpu_in_run_s,setup_s,run_wall_s,run_cpu_s,min_ess_bulk,min_ess_var,max_rhat,ess_per_s,ess_per_cpu_s,ess_per_s_total,rss_mb"
	echo "rows,subjects,items,q,load_start,settheta_s,settheta_cpu_s,draw_s,ml_fit_wall_s,ml_fit_rss_mb,auto_method,$(echo ",$mcols" | sed 's/,/,collapsed_/g' | cut -c2-),$(echo ",$mcols" | sed 's/,/,crossed_/g' | cut -c2-),load_end" >"$scsv"
	sformula=$(model_formula sim200k)
	sload0=$(cut -d' ' -f1-3 /proc/loadavg)
	# sample_row METHOD FILE: runs prof sample; sets SROW (the mcols
	# values) and SMETHOD (the method that ran).
	sample_row() {
		SROW=$(echo "$mcols" | sed 's/[^,]*/NA/g')
		SMETHOD=NA
		measure "scaling $1 $2" 1 env GOMAXPROCS=1 "$work/prof" sample -data "$2" -formula "$sformula" -method "$1" \
			-chains "$scaling_chains" -parallel 1 -warmup "$scaling_warmup" -draws "$scaling_draws" -seed "$seed" -factor 20 || return 0
		local o=$LAST_OUT cpi
		SMETHOD=$(kv method "$o")
		cpi=$(kv cpu_per_iter "$o")
		SROW="$(kv s_per_iter "$o"),$cpi,$(kv cpu_per_factorisation "$o"),$(kv settheta_cpu_s "$o"),$(kv setup_s "$o"),$(kv run_wall_s "$o"),$(kv run_cpu_s "$o"),$(kv min_ess_bulk "$o"),$(kv min_ess_var "$o"),$(kv max_rhat "$o"),$(kv ess_per_s "$o"),$(kv ess_per_cpu_s "$o"),$(kv ess_per_s_total "$o"),$RSS"
		if [ "$1" = auto ]; then
			printf '%s rows: %s (%s)\n' "$r" "$SMETHOD" "$(printf '%s\n' "$o" | sed -n 's/^reason: //p')" >>"$sreasons"
		fi
	}
	for k in 16 8 4 2 1; do
		r=$((sim_rows / k))
		s=$((sim_subjects / k))
		it=$(awk -v i="$sim_items" -v k="$k" 'BEGIN { printf "%d", i / sqrt(k) }')
		f="$here/data/sim_${r}_${s}_${it}_s${seed}.csv"
		[ -s "$f" ] || "$work/simulate" -rows "$r" -subjects "$s" -items "$it" -seed "$seed" -out "$f" >&2
		la=$(cut -d' ' -f1 /proc/loadavg)
		echo "== scaling $r rows ($la load)" >&2
		# Five batches of 20 SetTheta/Draw: the median of the batches'
		# figures (one batch is easily skewed on a shared machine).
		fos=()
		for ((b = 0; b < 5; b++)); do
			fos+=("$(GOMAXPROCS=1 "$work/prof" factor -data "$f" -formula "$sformula" -n 20)")
		done
		fmed() { local x; for x in "${fos[@]}"; do kv "$1" "$x"; done | sort -g | awk '{ v[NR] = $1 } END { print v[(NR + 1) / 2] }'; }
		q=$(kv q "${fos[0]}")
		st=$(fmed settheta_s)
		stc=$(fmed settheta_cpu_s)
		dr=$(fmed draw_s)
		fw=NA
		fr=NA
		if measure "scaling fit $r" 1 "$bin" fit --data "$f" --formula "$sformula"; then
			fw=$WALL
			fr=$RSS
		fi
		sample_row auto "$f"
		am=$SMETHOD
		arow=$SROW
		other=collapsed
		[ "$am" = collapsed ] && other=crossed
		sample_row "$other" "$f"
		if [ "$am" = collapsed ]; then crow=$arow; xrow=$SROW; else crow=$SROW; xrow=$arow; fi
		echo "$r,$s,$it,$q,$la,$st,$stc,$dr,$fw,$fr,$am,$crow,$xrow,$(cut -d' ' -f1 /proc/loadavg)" >>"$scsv"
	done
	sload1=$(cut -d' ' -f1-3 /proc/loadavg)
fi

# --- markdown --------------------------------------------------------------
load1=$(cut -d' ' -f1-3 /proc/loadavg)
md="$out/results.md"
{
	echo "Machine: $machine; load average $load0 at the start, $load1 at the end; $(date -u +%Y-%m-%d)."
	echo "Repeats: $repeats (small models), $big_repeats (insteval, sim200k); MCMC: $chains chains × ($warmup warmup + $draws draws), big models $chains × ($big_warmup + $big_draws); seed $seed."
	echo
	echo "| model | tool | task | wall (s) | in-call (s) | peak RSS (MB) | min bulk-ESS | (param) | max R-hat | bulk-ESS/s | wall ratio | ESS/s ratio |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	tail -n +2 "$csv" | awk -F, 'function g(x) { return (x == "NA") ? "–" : sprintf("%.3g", x) }
		function f(x) { return (x == "NA") ? "–" : sprintf("%.0f", x) }
		{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, g($5), g($6), f($7), f($8), ($9 == "NA") ? "–" : $9, ($10 == "NA") ? "–" : $10, f($11), g($12), g($13) }'
	echo
	echo "Wall is the whole process (median of the repeats); in-call is the time inside lmer() / stan_lmer() for R, and the sampler's own time (run.json wall_seconds) for lmmbayes run."
	echo "For brms (GLMMs), in-call is its sampling time summed over the chains (warmup and compilation excluded)."
	echo "Ratios are lmmbayes / anchor (lme4 for the ML fit, rstanarm or brms for MCMC), with lmmbayes' whole-process wall against the anchor's in-call time (R start-up and read.csv excluded, which favours the anchor): a wall ratio below 1 and an ESS/s ratio above 1 favour lmmbayes. ESS/s = min bulk-ESS / that same time."
	if [ -s "$notes" ]; then
		echo
		sed 's/^/- /' "$notes"
	fi
	if [ "$scaling" = 1 ]; then
		echo
		echo "Scaling (simulated y ~ x + (1 + x | subject) + (1 | item), seed $seed): load average $sload0 at its start, $sload1 at its end; each method $scaling_chains chain(s) one at a time × ($scaling_warmup warmup + $scaling_draws draws); prof with GOMAXPROCS=1."
		echo "Per iteration = the chains' iterations only (mode search excluded), CPU or wall / iterations; × fact. = CPU per iteration / CPU of one SetTheta timed in the same process just before and after the run; ESS/CPU-s = min bulk-ESS over b, sd, cor, sigma / the iterations' CPU time; total = / the whole sampler.Run's wall (mode search included)."
		echo
		echo "| rows | subjects | items | q | load | one SetTheta CPU (ms) | (wall) | one Draw (ms) | ML fit (s) | auto | collapsed CPU s/iter | × fact. | crossed CPU s/iter | × fact. | collapsed ESS/CPU-s | crossed ESS/CPU-s | collapsed ESS/s total | crossed ESS/s total |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		tail -n +2 "$scsv" | awk -F, 'function ms(x) { return (x == "NA") ? "–" : sprintf("%.3g", 1000 * x) }
			function g(x) { return (x == "NA") ? "–" : sprintf("%.3g", x) }
			{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, ms($7), ms($6), ms($8), g($9), $11, g($13), g($14), g($27), g($28), g($23), g($37), g($24), g($38) }'
		echo
		echo "| rows | collapsed wall s/iter | SetTheta CPU in its run (ms) | collapsed set-up (s) | collapsed min bulk-ESS (param) | collapsed max R-hat | collapsed RSS (MB) | crossed wall s/iter | SetTheta CPU in its run (ms) | crossed set-up (s) | crossed min bulk-ESS (param) | crossed max R-hat | crossed RSS (MB) |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		tail -n +2 "$scsv" | awk -F, 'function ms(x) { return (x == "NA") ? "–" : sprintf("%.3g", 1000 * x) }
			function g(x) { return (x == "NA") ? "–" : sprintf("%.3g", x) }
			{ printf "| %s | %s | %s | %s | %s (%s) | %s | %s | %s | %s | %s | %s (%s) | %s | %s |\n", $1, g($12), ms($15), g($16), g($19), $20, g($21), $25, g($26), ms($29), g($30), g($33), $34, g($35), $39 }'
		echo
		echo "auto's choice and reason:"
		sed 's/^/- /' "$sreasons"
	fi
} >"$md"
cat "$md"
echo "Wrote $csv and $md" >&2
