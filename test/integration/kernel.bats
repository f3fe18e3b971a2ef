#!/usr/bin/env bats
# Kernel behaviour probes: what the kernel itself does to sockets in a
# sockhash, measured with a minimal sk_msg program of the test's own
# (test/tools/sockmap-probe), without meshcut. Each prints its verdict as a
# TAP comment ("# probe signal: blocking-read hazard seen: ..."), which hack/matrix.sh
# puts into the kernel x hazard table; meshcut's rules follow from them
# (docs/socket-shortcut.md, "Blocking readers").

bats_require_minimum_version 1.5.0
load helpers

setup() { require_root; mc_setup; }
teardown() { mc_teardown; }

probe() { # NAME ARGS...: run the probe in the test's node netns (loopback only)
	local name=$1
	shift
	run nsn timeout 30 "$TOOLS/sockmap-probe" "$TOOLS/sockmap-probe.bpf.o" --seconds 2 "$@"
	echo "$output"
	[ "$status" -ne 2 ] || skip "$output"
	echo "# probe $name: $output" >&3
	# whatever the kernel answers a blocking reader, it loses, adds and
	# reorders no byte, and the sk_msg program did hand the writes over
	[[ $output =~ sent=([0-9]+)\ got=([0-9]+)\ redirected=([0-9]+).*corrupt=0 ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	[ "${BASH_REMATCH[3]}" -gt 0 ]
}

@test "kernel probe: a blocking read of a sockhash socket woken by a signal" {
	probe signal
}

@test "kernel probe: a blocking read of a sockhash socket woken by the ACKs of its own sends" {
	probe acks --acks --no-signals
}
