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

# nginx_config DIR < HTTP_BLOCK: an nginx configuration whose files all
# live under DIR (which the worker's user must be able to write), for an
# L7 sidecar or app: keep-alive without a request limit, no access log
nginx_config() {
	local dir=$1
	cat <<-NGX
		worker_processes 1;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 1024; }
		http {
		  access_log off;
		  client_body_temp_path $dir/body;
		  proxy_temp_path $dir/proxy;
		  fastcgi_temp_path $dir/fastcgi;
		  uwsgi_temp_path $dir/uwsgi;
		  scgi_temp_path $dir/scgi;
		  keepalive_requests 1000000;
		  keepalive_timeout 300s;
	NGX
	cat
	echo "}"
}

# nginx_sidecar LISTEN UPSTREAM [SOURCE]: the http block of an L7 sidecar
# (HTTP/1.1 proxy_pass with upstream keep-alive, as Envoy pools its
# upstream connections), optionally binding upstream connections to SOURCE
nginx_sidecar() {
	cat <<-NGX
		  upstream up {
		    server $2;
		    keepalive 64;
		    keepalive_requests 1000000;
		  }
		  server {
		    listen $1;
		    location / {
		      proxy_pass http://up;
		      proxy_http_version 1.1;
		      proxy_set_header Connection "";
		      ${3:+proxy_bind $3;}
		    }
		  }
	NGX
}

# "${AS_PROXY[@]}" CMD...: CMD as the proxy's uid (1337), which the
# capture rules exempt (a command, so that in_pod can run it)
# shellcheck disable=SC2034 # used by those who source this
AS_PROXY=(setpriv --reuid=1337 --regid=1337 --clear-groups --)
