#!/bin/sh
# loo.sh: lmmbayes loo on InstEval (73,421 rows × 4000 draws).
#
#   bench/loo.sh [DIR] [MEMORY_MB]    # default: a temporary dir (≈ 4.5 GB), 1024
#
# Runs bench/insteval.toml with 1000 draws per chain and --log-lik into DIR
# (skipped when DIR already holds a run with log_lik_K.csv), then times
# `lmmbayes loo DIR --memory-mb MEMORY_MB` under /usr/bin/time -v and prints its
# output, wall and CPU time and peak RSS. The machine's load average is
# printed before each step: on a shared machine compare CPU time.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-}
mem=${2:-1024}
bin=$(mktemp -d)/lmmbayes
go build -o "$bin" ./cmd/lmmbayes
tmp=""
if [ -z "$dir" ]; then tmp=$(mktemp -d); dir=$tmp/run; fi
if [ ! -f "$dir/log_lik_1.csv" ]; then
  uptime
  cfg=$(mktemp --suffix=.toml)
  sed -e 's/^draws = 500/draws = 1000/' -e "s|^path = \"../testdata/insteval.csv\"|path = \"$(pwd)/testdata/insteval.csv\"|" \
    -e "s|^dir = .*|dir = \"$dir\"|" bench/insteval.toml > "$cfg"
  /usr/bin/time -f "run: %e s wall, %U s user, %S s sys, %M KB max RSS" "$bin" run "$cfg" --log-lik --quiet --force > /dev/null
  rm -f "$cfg"
fi
uptime
/usr/bin/time -f "loo: %e s wall, %U s user, %S s sys, %M KB max RSS" "$bin" loo "$dir" --memory-mb "$mem"
rm -rf "$(dirname "$bin")"
[ -n "$tmp" ] && rm -rf "$tmp"
exit 0
