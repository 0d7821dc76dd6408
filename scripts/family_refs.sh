#!/bin/sh
# family_refs.sh: run scripts/family_refs.R from the repository root at the
# lowest CPU priority (the machine is shared with benchmarks).
#
#   scripts/family_refs.sh lme4                 # lme4 ML + REML JSONs of the family
#   scripts/family_refs.sh stan                 # all brms/Stan references, one at a time
#   scripts/family_refs.sh stan maximal         # one of them
#
# The data must exist first: go run ./bench/family -out testdata/family
set -eu
cd "$(dirname "$0")/.."
exec nice -n 19 Rscript scripts/family_refs.R "$@"
