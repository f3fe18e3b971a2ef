#!/usr/bin/env bash
# The test command: install dependencies, build, run the unit tests (cmocka)
# and the integration tests (bats, real pods), and end with one line
# "N passed, N failed[, N skipped]". Needs root. --no-deps skips apt-get.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if [ "${1:-}" != "--no-deps" ]; then
	hack/deps.sh || exit 1
fi
# The integration tests run the node binary, the static one the image ships.
make -s -j"$(nproc)" all static test-bins || { echo "0 passed, 1 failed"; exit 1; }
export MESHCUT="$PWD/build/static/meshcut"

results=$(mktemp)
trap 'rm -f "$results"' EXIT

echo "== unit tests"
for t in build/test/test_*; do
	[ -x "$t" ] || continue
	CMOCKA_MESSAGE_OUTPUT=tap "$t" 2>&1 | tee -a "$results"
done

echo "== integration tests"
bats --tap test/integration 2>&1 | tee -a "$results"

passed=$(grep -cE '^ok [0-9]+' "$results" | tr -d ' ')
skipped=$(grep -cE '^ok [0-9]+.*# skip' "$results" | tr -d ' ')
failed=$(grep -cE '^not ok [0-9]+' "$results" | tr -d ' ')
passed=$((passed - skipped))
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
