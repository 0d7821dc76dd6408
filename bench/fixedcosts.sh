#!/usr/bin/env bash
# Fixed costs of a small run: configs/sleepstudy.toml, 4 chains ×
# (1000 + 1000), run N times (default 7) into fresh dirs.
#
#   bench/fixedcosts.sh [--repeats N] [--bin LMMBAYES]
#
# Per run: the whole process's wall time (shell clock around it), the
# sampling's wall time (the longest chain's wall_seconds in run.json),
# everything else = process − sampling
# (start-up, reading, mode search and method pilots, summaries, ML fit,
# ppc, coef, files), the process's CPU time, min bulk-ESS over b_, sd_,
# cor_ and sigma (summary.csv) and whole-process min bulk-ESS per
# second. Prints each run and the medians, with the machine's load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
repeats=7
bin=""
while [ $# -gt 0 ]; do
	case "$1" in
	--repeats) repeats="$2"; shift ;;
	--bin) bin="$2"; shift ;;
	-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "fixedcosts.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
cd "$root"
if [ -z "$bin" ]; then
	mkdir -p "$here/results"
	bin="$here/results/lmmbayes"
	go build -o "$bin" ./cmd/lmmbayes
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %9s %9s %9s %9s %8s %9s\n' run wall_s sample_s other_s cpu_s min_ess ess_per_s
for r in $(seq 1 "$repeats"); do
	out="$work/out$r"
	t0=$(date +%s.%N)
	if [ -x /usr/bin/time ]; then
		LMMBAYES_TIMING=1 /usr/bin/time -f 'cpu %U %S' "$bin" run configs/sleepstudy.toml --out "$out" --quiet >"$work/stdout" 2>"$work/stderr"
	else
		LMMBAYES_TIMING=1 "$bin" run configs/sleepstudy.toml --out "$out" --quiet >"$work/stdout" 2>"$work/stderr"
	fi
	t1=$(date +%s.%N)
	chains=$(awk '/"chain_stats"/ { in_chains = 1 } in_chains && /"wall_seconds"/ { gsub(/[^0-9.e-]/, "", $2); if ($2 + 0 > m) m = $2 + 0 } END { print m }' "$out/run.json")
	cpu=$(awk '/^cpu /{print $2 + $3}' "$work/stderr")
	ess=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ess_bulk") c = i; next }
		$1 ~ /^(b_|sd_|cor_|sigma$)/ { if (m == "" || $c + 0 < m) m = $c + 0 } END { print m }' "$out/summary.csv")
	awk -v r="$r" -v t0="$t0" -v t1="$t1" -v ch="$chains" -v cpu="${cpu:-NA}" -v ess="$ess" 'BEGIN {
		w = t1 - t0; printf "%-4s %9.3f %9.3f %9.3f %9s %8.0f %9.0f\n", r, w, ch, w - ch, cpu, ess, ess / w }'
done | tee "$work/rows"
awk '{ w[NR] = $2; s[NR] = $3; o[NR] = $4; c[NR] = $5; e[NR] = $7 }
	function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	END { printf "%-4s %9.3f %9.3f %9.3f %9s %8s %9.0f\n", "med", med(w, NR), med(s, NR), med(o, NR), (c[1] == "NA" ? "NA" : sprintf("%.3f", med(c, NR))), "", med(e, NR) }' "$work/rows"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
