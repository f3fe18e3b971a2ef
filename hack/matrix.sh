#!/usr/bin/env bash
# hack/matrix.sh [--kernels "bullseye bookworm trixie sid"] [--tests "FILE..."] [--timeout S]
#                [--no-host] [--table-only]
#
# The kernel matrix: for each Debian kernel (hack/vm.sh), boots it, loads a
# node and records what the kernel let each datapath feature do, then runs
# the given bats files there (default: every integration test). Writes
# build/matrix/<kernel>.{features.json,tap} and build/matrix/table.md (a
# kernel x feature table and each kernel's test count), which the README's
# kernel table is copied from. Also runs the host's own kernel, natively
# (not with --no-host). A run replaces only its kernels' results, and the
# table is made from every kernel's last run, naming the tests it ran;
# --table-only makes it again from those results without running anything.
set -uo pipefail
# as root; a user with sudo may run it as is (a fresh Debian has no sudo)
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then exec sudo -E -- "$0" "$@"; fi
cd "$(dirname "$0")/.." || exit 1

KERNELS="bullseye bookworm trixie sid"
TESTS=test/integration
TIMEOUT=3000
HOST=host
TABLE_ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--kernels) KERNELS=$2; shift 2 ;;
	--tests) TESTS=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--no-host) HOST=; shift ;;
	--table-only) TABLE_ONLY=1; shift ;;
	*) sed -n '2,13p' "$0" >&2; exit 2 ;;
	esac
done
OUT=build/matrix
mkdir -p "$OUT"
[ -n "$TABLE_ONLY" ] || make -s -j"$(nproc)" all static test-bins || exit 1

# run_here: what a kernel runs, on the host or in a guest: the features a
# fresh node gets (CNI STATUS under a bpffs root of its own), then the tests
run_here() { # NAME
	cat <<EOF
root=/sys/fs/bpf/mc-matrix-\$\$
mkdir -p "\$root"
echo '{"cniVersion":"1.1.0","name":"matrix","type":"meshcut","bpffsRoot":"'"\$root"'"}' |
	CNI_COMMAND=STATUS CNI_PATH=/usr/lib/cni build/static/meshcut >/dev/null 2>&1
build/static/meshcut status --json --bpffs-root "\$root" | jq -c '{kernel: "'"\$(uname -r)"'", features: .node.features}' > /tmp/features.json
rm -rf "\$root"
echo "## features \$(cat /tmp/features.json)"
MESHCUT=\$PWD/build/static/meshcut bats --tap $TESTS
EOF
}

for k in $HOST $KERNELS; do
	[ -z "$TABLE_ONLY" ] || break
	echo "== $k" >&2
	echo "$TESTS at $(git describe --always --dirty 2>/dev/null)" > "$OUT/$k.tests"
	if [ "$k" = host ]; then
		bash -c "$(run_here)" > "$OUT/$k.log" 2>&1
	else
		hack/vm.sh "$k" --timeout "$TIMEOUT" -- bash -c "$(run_here)" > "$OUT/$k.log" 2>&1
	fi
	echo "rc=$?" >> "$OUT/$k.log"
	sed -n 's/^## features //p' "$OUT/$k.log" | tail -1 > "$OUT/$k.features.json"
	grep -E '^(not )?ok ' "$OUT/$k.log" > "$OUT/$k.tap" || true
	echo "$k: $(grep -c '^ok' "$OUT/$k.tap") ok ($(grep -c '# skip' "$OUT/$k.tap") skipped), $(grep -c '^not ok' "$OUT/$k.tap") not ok" >&2
done

# kernel_head TITLE: a table's first two rows, a column per kernel
kernel_head() {
	printf '| %s |' "$1"
	for k in $ALL; do printf ' %s |' "$k"; done
	printf '\n|---|'
	for _ in $ALL; do printf -- '---|'; done
	printf '\n'
}

# the table, from every kernel's last run (each row says which tests ran)
ALL=
for k in host bullseye bookworm trixie sid; do [ -s "$OUT/$k.tap" ] && ALL="$ALL $k"; done
{
	feats="packet conntrack-gate socket socket-queue socket-teardown splice-guard"
	printf '| kernel |'
	for f in $feats; do printf ' %s |' "$f"; done
	printf ' tests: passed / failed / skipped |\n|---|'
	for _ in $feats; do printf -- '---|'; done
	printf -- '---|\n'
	for k in $ALL; do
		j=$OUT/$k.features.json
		[ -s "$j" ] || { echo "| $k | (did not run) |"; continue; }
		printf '| %s `%s` |' "$k" "$(jq -r .kernel "$j")"
		for f in $feats; do
			printf ' %s |' "$(jq -r --arg f "$f" '.features[$f] | if .on then "on" elif .state == "off" then "off (\(.why | sub(", which is off"; "")))" else "off: \(.program) \(.error // "")" end' "$j")"
		done
		t=$OUT/$k.tap
		printf ' %s / %s / %s (%s) |\n' "$(grep '^ok' "$t" | grep -vc '# skip')" "$(grep -c '^not ok' "$t")" \
			"$(grep -c '# skip' "$t")" "$(sed 's|test/integration/||g; s|\.bats||g' "$OUT/$k.tests" 2>/dev/null || echo '?')"
	done

	# the kernel hazards of the socket shortcut: each is a test of
	# socket.bats; "ok" means the hazard was handled (no byte lost or
	# reordered), "skip" that the socket shortcut is off on that kernel
	echo
	kernel_head 'hazard (socket.bats test)'
	while IFS='|' read -r name pat; do
		printf '| %s |' "$name"
		for k in $ALL; do
			line=$(grep -E "^(not )?ok [0-9]+ $pat" "$OUT/$k.tap" 2>/dev/null | head -1)
			case $line in
			"") r="not run" ;;
			"not ok"*) r="**failed**" ;;
			*"# skip"*) r="skip" ;;
			*) r="ok" ;;
			esac
			printf ' %s |' "$r"
		done
		printf '\n'
	done <<'HAZARDS'
mid-stream insert (connections made before ADD)|connections made before ADD
never-reading peer (bounded queue)|a receiver that never reads
slow reader behind a fast writer; the writer waits in poll(POLLOUT)|integrity: a slow reader
v4-mapped dual-stack listener|pod to pod through a dual-stack listener
half-close, 1 B to 1 MiB writes, concurrent streams|integrity: concurrent streams
blocking reader with signals|kernel hazard: blocking readers
splice(2) reader after redirected bytes|splice guard: a splice\(2\) reader
splice(2) reader from the first byte|splice guard: a reader splicing
sendfile (nginx)|nginx serving a file
FIONREAD with redirected bytes|kernel hazard: FIONREAD counts
FIONREAD with bytes on both paths|kernel hazard: FIONREAD with bytes
Nagle-sized (64 B) writes|kernel hazard: Nagle-sized
HAZARDS

	# what the kernel itself does (kernel.bats' probes, without meshcut):
	# seen or not seen, with the probe's counts
	echo
	kernel_head 'kernel behaviour (probe)'
	while IFS='|' read -r name probe; do
		printf '| %s |' "$name"
		for k in $ALL; do
			line=$(sed -n "s/^# probe $probe: blocking-read hazard //p; t; s/^# probe $probe: [^:]*: //p" "$OUT/$k.log" 2>/dev/null | head -1)
			case $line in
			"") r="not run" ;;
			"not seen"*) r="not seen" ;;
			seen*eagain*) r="**seen** ($(grep -o 'eagain=[0-9]*' <<<"$line"), $(grep -o 'false_eof=[0-9]*' <<<"$line"))" ;;
			seen*) r="**${line}**" ;;
			*) r="not seen" ;;
			esac
			printf ' %s |' "$r"
		done
		printf '\n'
	done <<'PROBES'
blocking read woken by a signal returns EAGAIN or 0|signal
blocking read woken by its own sends' ACKs returns EAGAIN or 0|acks
FIONREAD says 0 while TCP bytes wait behind redirected ones (socket.bats)|fionread-both
PROBES
} > "$OUT/table.md"
cat "$OUT/table.md"
