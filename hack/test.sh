#!/usr/bin/env bash
# The test command: install dependencies, build, run the unit tests (cmocka)
# and the integration tests (bats, real pods), and end with one line
# "N passed, N failed[, N skipped]". Needs root. --no-deps skips apt-get.
set -uo pipefail
# as root; a user with sudo may run it as is (a fresh Debian has no sudo)
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then exec sudo -E -- "$0" "$@"; fi
cd "$(dirname "$0")/.." || exit 1

if [ "${1:-}" != "--no-deps" ]; then
	hack/deps.sh || exit 1
fi
# The integration tests run the node binary, the static one the image ships.
make -s -j"$(nproc)" all static test-bins || { echo "0 passed, 1 failed"; exit 1; }
export MESHCUT="$PWD/build/static/meshcut"

results=$(mktemp)
# the tests' temp dirs live under a dir of this run's own, so that what
# they leave running can be told from anything else on the machine
run_tmp=$(mktemp -d)
trap 'rm -f "$results"; rm -rf "$run_tmp"' EXIT

# bpffs roots the tests make are /sys/fs/bpf/mc*: those there before are
# not ours to judge
bpf_before=$(ls -d /sys/fs/bpf/mc* 2>/dev/null | sort)

echo "== unit tests"
for t in build/test/test_*; do
	[ -x "$t" ] || continue
	CMOCKA_MESSAGE_OUTPUT=tap "$t" 2>&1 | tee -a "$results"
done

echo "== integration tests"
TMPDIR=$run_tmp bats --tap test/integration 2>&1 | tee -a "$results"

# The kernel matrix's share of every run (docs/kernels.md): tests in a qemu
# guest booting another Debian kernel, with this machine's userspace and
# build tree over 9p. Entries are KERNEL:FILE,...[:NAME_FILTER];
# MESHCUT_TEST_KERNELS="" runs none.
for entry in ${MESHCUT_TEST_KERNELS-bookworm:features,packet trixie:features,policy trixie:socket:splice}; do
	k=${entry%%:*}
	rest=${entry#*:}
	files=$(tr , '\n' <<<"${rest%%:*}" | sed 's|.*|test/integration/&.bats|' | paste -sd' ')
	filter=()
	[ "$rest" != "${rest#*:}" ] && filter=(-f "${rest#*:}")
	echo "== on Debian $k's kernel, in a guest: $files ${filter[*]}"
	# shellcheck disable=SC2086 # $files: one word per file
	hack/vm.sh "$k" --timeout 2400 -- env MESHCUT="$MESHCUT" bats --tap "${filter[@]}" $files \
		> "$run_tmp/vm" 2>&1
	rc=$?
	# each result names its kernel, so that the count tells them apart
	sed -E "s/^((not )?ok [0-9]+ )/\1[$k] /" "$run_tmp/vm" | tee -a "$results"
	if [ "$rc" -eq 124 ] || ! grep -qE '^(not )?ok ' "$run_tmp/vm"; then
		echo "not ok - [$k] the guest did not run its tests (exit $rc)" | tee -a "$results"
	fi
done

# A test must stop what it starts: anything still running with one of its
# paths on its command line was left behind. Counted as a failure, then
# stopped (it is ours: the paths are this run's).
left=$(pgrep -f -- "$run_tmp/" || true)
if [ -n "$left" ]; then
	echo "not ok - processes left behind by the tests:" | tee -a "$results"
	ps -o pid=,args= -p "$(paste -sd, <<<"$left")" | sed 's/^/#   /'
	# shellcheck disable=SC2086
	kill $left 2>/dev/null || true
fi

# ... and must remove what they pin
bpf_left=$(comm -13 <(echo "$bpf_before") <(ls -d /sys/fs/bpf/mc* 2>/dev/null | sort) | grep . || true)
if [ -n "$bpf_left" ]; then
	echo "not ok - bpffs state left behind by the tests:" | tee -a "$results"
	sed 's/^/#   /' <<<"$bpf_left"
fi

passed=$(grep -cE '^ok [0-9]+' "$results" | tr -d ' ')
skipped=$(grep -cE '^ok [0-9]+.*# skip' "$results" | tr -d ' ')
failed=$(grep -cE '^not ok' "$results" | tr -d ' ')
passed=$((passed - skipped))
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
