#!/usr/bin/env bash
# Post-processing against sampling on the 500,000-row model of issue 13
# (bench/bigdata.toml: y ~ x + (1 + x | subject) + (1 | item), 2000
# subjects × 200 items, 4 chains × (500 + 500), random effects kept).
#
#   bench/bigdata.sh [--bin LMMBAYES] [--no-ppc]
#
# Generates bench/data/sim500k.csv when missing, runs lmmbayes with
# LMMBAYES_TIMING=1 (every phase's wall time on stderr) under
# /usr/bin/time -v when present, and prints the phases, the whole
# process's wall time and peak RSS, and the sizes of the files written.
# --no-ppc runs the same model with [output] ppc = false.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=""
ppc=1
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin="$2"; shift ;;
	--no-ppc) ppc=0 ;;
	-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bigdata.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
cd "$root"
if [ -z "$bin" ]; then
	bin="$here/results/lmmbayes"
	mkdir -p "$here/results"
	go build -o "$bin" ./cmd/lmmbayes
fi
mkdir -p "$here/data"
if [ ! -f "$here/data/sim500k.csv" ]; then
	go run ./bench/simulate -rows 500000 -subjects 2000 -items 200 -seed 1 -out "$here/data/sim500k.csv" >/dev/null
fi
cfg="$here/bigdata.toml"
out="$here/results/bigdata"
if [ "$ppc" = 0 ]; then
	cfg="$here/results/bigdata_noppc.toml"
	sed -e 's#"data/sim500k.csv"#"../data/sim500k.csv"#' -e 's#"results/bigdata"#"bigdata_noppc"#' "$here/bigdata.toml" >"$cfg"
	printf 'ppc = false\n' >>"$cfg"
	out="$here/results/bigdata_noppc"
fi
rm -rf "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
timer=()
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -v); fi
LMMBAYES_TIMING=1 "${timer[@]}" "$bin" run "$cfg" --quiet >"$out.stdout" 2>"$out.stderr"
grep -E '^lmmbayes: timing' "$out.stderr" | sed 's/^lmmbayes: timing: //'
grep -E 'Elapsed|Maximum resident|User time|System time' "$out.stderr" || true
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$out" | awk 'NR > 1 { printf "%12d  %s\n", $5, $9 }'
