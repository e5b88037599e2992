#!/usr/bin/env bash
# The pipeline gate of .ci/run: `sluice bench` on the three shipped flows, in memory, with the flows' own
# (local) services, saturation, the median of a few rounds.
#   bash scripts/bench-flows.sh gate        against bench/baseline/flow-<flow>.json (exit 1 if one regressed)
#   bash scripts/bench-flows.sh baseline    writes those baselines (on the machine CI runs on)
set -uo pipefail
cd "$(dirname "$0")/.."

mode=${1:-gate}
common=(--config config/local.conf --seconds 3 --warmup 1 --no-progress)
status=0
for flow in content campaign engagement; do
  baseline="bench/baseline/flow-${flow}.json"
  case "$mode" in
    gate) npm run -s sluice -- bench "${common[@]}" --flow "$flow" --rounds 3 --baseline "$baseline" --attempts 3 || status=1 ;;
    baseline) npm run -s sluice -- bench "${common[@]}" --flow "$flow" --rounds 9 --out "$baseline" || status=1 ;;
    *) echo "usage: bash scripts/bench-flows.sh gate|baseline" >&2; exit 2 ;;
  esac
done
exit "$status"
