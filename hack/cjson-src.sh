#!/usr/bin/env bash
# hack/cjson-src.sh DIR: put Debian's source of cJSON, the version of the
# installed libcjson-dev with Debian's patches applied, into DIR. `make
# static` compiles it in, since Debian ships no static libcjson.
#
# apt checks the files against the archive's signed Sources index. The
# host's apt configuration is left alone: the deb-src entries (the same
# archives as the host's deb entries) and their lists live in a temp dir.
set -euo pipefail

out=${1:?usage: hack/cjson-src.sh DIR}
ver=$(dpkg-query -W -f='${Version}' libcjson-dev 2>/dev/null) || {
	echo "hack/cjson-src.sh: libcjson-dev is not installed (make deps)" >&2
	exit 1
}
src=$(dpkg-query -W -f='${source:Package}' libcjson-dev)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/work"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f"
done > "$tmp/parts/meshcut-src.list"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$tmp/parts/${f##*/}"
done
apt=(apt-get -q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/parts"
	-o Dir::State::Lists="$tmp/lists" -o APT::Sandbox::User=root)
"${apt[@]}" update >/dev/null
if ! (cd "$tmp/work" && "${apt[@]}" source "$src=$ver" >/dev/null); then
	echo "hack/cjson-src.sh: cannot fetch the source of $src $ver;" \
		"if the archive has a newer one, upgrade libcjson-dev and retry" >&2
	exit 1
fi
dir=$(find "$tmp/work" -mindepth 1 -maxdepth 1 -type d -name "$src-*")
if [ ! -f "$dir/cJSON.c" ] || [ ! -f "$dir/cJSON.h" ]; then
	echo "hack/cjson-src.sh: no cJSON.c in the source of $src $ver" >&2
	exit 1
fi
# the header we compile against must be the one we compile in
if ! cmp -s "$dir/cJSON.h" /usr/include/cjson/cJSON.h; then
	echo "hack/cjson-src.sh: $src $ver's cJSON.h differs from the installed one" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$dir" "$out"
echo "cJSON $ver source in $out"
