#!/bin/sh
# loglik.sh: what writing the pointwise log-likelihood costs a run.
#
#   bench/loglik.sh [CONFIG] [REPEATS]      # default configs/sleepstudy.toml, 7
#
# Runs `lmmbayes run CONFIG` REPEATS times without and with --log-lik,
# alternating (so that load from other jobs hits both alike), and prints the
# median wall time and the median CPU time (user + sys) of each, and their
# ratio, and the ratio of the totals (time(1) counts CPU in 10 ms steps, so
# the totals resolve small differences better). CPU time is the figure to
# read on a shared machine.
set -eu
cd "$(dirname "$0")/.."
cfg=${1:-configs/sleepstudy.toml}
reps=${2:-7}
bin=$(mktemp -d)/lmmbayes
go build -o "$bin" ./cmd/lmmbayes
out=$(mktemp -d)
for i in $(seq "$reps"); do
  for mode in off on; do
    flag=""; [ "$mode" = on ] && flag="--log-lik"
    /usr/bin/time -f "$mode %e %U %S" -a -o "$out/times" "$bin" run "$cfg" --out "$out/run_$mode" --force --quiet $flag >/dev/null
  done
done
awk '
function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ n[$1]++; wall[$1, n[$1]] = $2; cpu[$1, n[$1]] = $3 + $4; sw[$1] += $2; sc[$1] += $3 + $4 }
END {
  for (m in n) { for (i = 1; i <= n[m]; i++) { w[i] = wall[m, i]; c[i] = cpu[m, i] } mw[m] = median(w, n[m]); mc[m] = median(c, n[m]) }
  printf "log_lik off: wall %.3f s, CPU %.3f s (median of %d)\n", mw["off"], mc["off"], n["off"]
  printf "log_lik on:  wall %.3f s, CPU %.3f s\n", mw["on"], mc["on"]
  printf "ratio on/off: wall %.3f, CPU %.3f (medians); wall %.3f, CPU %.3f (totals over the repeats)\n", mw["on"] / mw["off"], mc["on"] / mc["off"], sw["on"] / sw["off"], sc["on"] / sc["off"]
}' "$out/times"
du -sh "$out/run_on"/log_lik_*.csv | head -1
rm -rf "$out" "$(dirname "$bin")"
