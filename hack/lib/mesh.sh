# shellcheck shell=bash
# A service mesh reduced to its essentials, for the socket shortcut's tests
# and benchmark: Istio's traffic capture in a pod's netns, and an haproxy
# sidecar. Needs nsp POD CMD... (hack/lib/pods.sh).

# istio_rules POD: outbound TCP of everyone but the proxy's uid (1337) goes
# to 15001, inbound TCP to 15006, loopback is left alone (the proxy reaches
# its app over lo, from 127.0.0.6), as Istio's iptables capture does
istio_rules() {
	nsp "$1" iptables -t nat -A OUTPUT -p tcp -o lo -j RETURN
	nsp "$1" iptables -t nat -A OUTPUT -p tcp -m owner --uid-owner 1337 \
		-m comment --comment mc-proxy -j RETURN
	nsp "$1" iptables -t nat -A OUTPUT -p tcp -m comment --comment mc-out -j REDIRECT --to-ports 15001
	nsp "$1" iptables -t nat -A PREROUTING -p tcp -m comment --comment mc-in -j REDIRECT --to-ports 15006
}

# sidecar_config < FRONTENDS_AND_BACKENDS: an haproxy configuration for a
# sidecar running as the proxy's uid, relaying TCP as it comes
sidecar_config() {
	printf 'global\n  uid 1337\n  gid 1337\n  maxconn 256\n'
	printf 'defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
	cat
}
