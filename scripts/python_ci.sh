#!/usr/bin/env bash
# CI of the Python package in python/ (issue 17): builds the lmmbayes binary into a temporary
# dir and points LMMBAYES_BIN at it; makes sure Debian's Python 3 has numpy, pandas, pytest and
# venv (the Python package index is not reachable here: missing pieces come from apt, which
# needs root, as CI is); installs the package into a venv that sees the system's packages
# (`pip install --no-index --no-deps --no-build-isolation`, which builds it with Debian's
# setuptools, offline); runs its tests and the example python/examples/politeness.py, and says
# whether docs/python.md still shows the example's output. A few minutes at most.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

echo "== python: go build -o $tmp/bin/lmmbayes ./cmd/lmmbayes"
go build -o "$tmp/bin/lmmbayes" ./cmd/lmmbayes
export LMMBAYES_BIN="$tmp/bin/lmmbayes"
"$LMMBAYES_BIN" version

# Debian's python3 (another python3 on PATH, such as pyenv's, may lack numpy).
PY=/usr/bin/python3
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		echo "python_ci: missing Debian packages $*; install them as root: apt-get install -y $*" >&2
		exit 1
	fi
	echo "== python: apt-get install -y $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q "$@" >"$tmp/apt.log" 2>&1 ||
		{ apt-get update -q >>"$tmp/apt.log" 2>&1 && apt-get install -y -q "$@" >>"$tmp/apt.log" 2>&1; } ||
		{ tail -20 "$tmp/apt.log"; exit 1; }
}
[ -x "$PY" ] || apt_install python3
need=()
"$PY" -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
"$PY" -c 'import pandas' 2>/dev/null || need+=(python3-pandas)
"$PY" -c 'import pytest' 2>/dev/null || need+=(python3-pytest)
"$PY" -c 'import setuptools' 2>/dev/null || need+=(python3-setuptools)
"$PY" -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
"$PY" -c 'import sys, numpy, pandas, pytest, setuptools; print("python", sys.version.split()[0], "numpy", numpy.__version__, "pandas", pandas.__version__, "pytest", pytest.__version__, "setuptools", setuptools.__version__)'

echo "== python: pip install --no-index --no-deps --no-build-isolation ./python (into a venv)"
"$PY" -m venv --system-site-packages "$tmp/venv"
VPY="$tmp/venv/bin/python"
# Built from a copy, so that setuptools' build/ and egg-info stay out of the checkout.
cp -r python "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src"/*.egg-info
"$VPY" -m pip install -q --no-index --no-deps --no-build-isolation "$tmp/src"
# The tests import the installed package (run from outside python/).
cd "$tmp"
"$VPY" -c 'import lmmbayes, sys; assert "/venv/" in lmmbayes.__file__, lmmbayes.__file__; print("installed", lmmbayes.__version__, "at", lmmbayes.__file__)'

echo "== python: pytest python/tests"
"$VPY" -m pytest -q -p no:cacheprovider "$repo/python/tests"

echo "== python: python/examples/politeness.py"
"$VPY" "$repo/python/examples/politeness.py" "$tmp/politeness" >"$tmp/example.txt" 2>"$tmp/example.err" ||
	{ cat "$tmp/example.txt" "$tmp/example.err"; exit 1; }
cat "$tmp/example.txt"
# docs/python.md shows this output between the two marker lines; a difference (after a
# change to the sampler, say) is reported, not failed: paste the new output into the page.
awk '/<!-- politeness.py output begin -->/{f=1; next} /<!-- politeness.py output end -->/{f=0} f' \
	"$repo/docs/python.md" | sed '1d;$d' >"$tmp/docs.txt"
if diff -u "$tmp/docs.txt" "$tmp/example.txt" >"$tmp/docs.diff"; then
	echo "docs/python.md shows this output"
else
	echo "NOTE: docs/python.md shows another output of python/examples/politeness.py; paste the one above into it:"
	head -40 "$tmp/docs.diff"
fi
