#!/usr/bin/env bash
# check_report.sh renders an lmmbayes report.html in headless Chromium and
# checks that the screenshot is not empty.
#
# Usage: scripts/check_report.sh [REPORT.html [SCREENSHOT.png]]
#
# Without REPORT it builds lmmbayes, makes a small sleepstudy run (200
# warmup, 200 draws) and "lmmbayes plot DIR --report" in a temporary dir.
# Needs Debian's chromium (apt-get install -y chromium). The page loads
# with networking disabled, so a report that needed the network would
# show broken images. The screenshot is kept (default
# /tmp/lmmbayes_report.png) for looking at.
set -euo pipefail
cd "$(dirname "$0")/.."

report=${1:-}
shot=${2:-/tmp/lmmbayes_report.png}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -z $report ]]; then
	go build -o "$work/lmmbayes" ./cmd/lmmbayes
	"$work/lmmbayes" run configs/sleepstudy.toml --out "$work/run" --draws 200 --warmup 200 --quiet >/dev/null
	"$work/lmmbayes" plot "$work/run" --report >/dev/null
	report=$work/run/report.html
fi
[[ -s $report ]] || { echo "check_report: $report is missing or empty" >&2; exit 1; }

chrome=$(command -v chromium || command -v chromium-browser || true)
[[ -n $chrome ]] || { echo "check_report: chromium not found (apt-get install -y chromium)" >&2; exit 1; }

rm -f "$shot"
timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$work/profile" \
	--hide-scrollbars --window-size=1300,2600 --screenshot="$shot" "file://$(realpath "$report")" \
	>"$work/chromium.log" 2>&1 || { cat "$work/chromium.log" >&2; exit 1; }

# A blank page compresses to a few kilobytes; the report's tables and
# plots make hundreds.
size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
if (( size < 50000 )); then
	echo "check_report: screenshot $shot is $size bytes: the page looks empty" >&2
	exit 1
fi
echo "check_report: $report rendered, screenshot $shot ($size bytes)"
