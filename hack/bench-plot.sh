#!/usr/bin/env bash
# Draw a benchmark run (hack/bench.sh's bench.json) as one PNG:
#   left   every cell as meshcut's gain over the baseline, the median of
#          the rounds with their range: baseline/meshcut for latency and
#          CPU, meshcut/baseline for throughput, so that right of 1 is
#          meshcut better, left of it worse, for every cell alike
#   right  the mesh cells' latency distributions (sockperf's and wrk's
#          percentiles, median over the rounds), baseline and meshcut
#
#   hack/bench-plot.sh BENCH.json OUT.png
# Needs jq and gnuplot (Debian's gnuplot-nox; hack/deps.sh installs it).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: hack/bench-plot.sh BENCH.json OUT.png" >&2; exit 2; }
in=$1 png=$2
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

# gain, its range, and a label per cell (top to bottom as the tables run)
jq -r '.cells | reverse | to_entries[] | .key as $i | .value
	| select(.ratio != null and .ratio > 0)
	| (if .better == "higher" then [.ratio, .lo, .hi] else [1 / .ratio, 1 / .hi, 1 / .lo] end) as $g
	| [$i, $g[0], ($g[1] // $g[0]), ($g[2] // $g[0]),
	   ((if .set == "sock" then "" else .set + " " end) + .cell)] | @tsv' "$in" > "$d/cells.tsv"
[ -s "$d/cells.tsv" ] || { echo "hack/bench-plot.sh: no cells in $in" >&2; exit 1; }
# percentile -> latency: the median of the rounds at each percentile
for cell in mesh-rr http-mesh; do
	for mode in baseline meshcut; do
		jq -r --arg c "$cell" --arg m "$mode" '[.latency[] | select(.cell == $c and .mode == $m) | .rounds[]]
			| map(.[]) | group_by(.[0])[] | [.[0][0], (map(.[1]) | sort | .[length / 2 | floor])] | @tsv' \
			"$in" > "$d/lat-$cell-$mode.tsv"
	done
done
title=$(jq -r '"meshcut / baseline: \(.machine.cpu), \(.machine.cpus) CPUs, Linux \(.machine.kernel), \(.rounds) rounds of \(.seconds) s, \(.date)"' "$in")

gnuplot <<-GP
	set terminal pngcairo size 1500,800 font "sans,10"
	set output "$png"
	set multiplot layout 1,2 title "$title"
	set datafile separator "\t"
	set title "gain per cell: right of 1 = meshcut better (median, bar = lowest to highest round)"
	set logscale x 2
	set xrange [0.125:16]
	set xtics (0.25, 0.5, 1, 2, 4, 8)
	set grid xtics
	set ytics scale 0 font ",8"
	set yrange [-1:*]
	set key off
	set arrow from 1, graph 0 to 1, graph 1 nohead dt 2 lc "black"
	plot "$d/cells.tsv" using 2:1:3:4:ytic(5) with xerrorbars pt 7 ps 0.8 lc "#1f77b4"
	unset arrow
	set title "mesh cells, app -> sidecar -> sidecar -> app: mesh-rr (sockperf, half RTT), http-mesh (wrk)"
	set logscale x 10
	set xrange [*:*]
	set xtics auto
	set ytics auto font ",10"
	set yrange [0:5.2]
	set ytics ("25" -log10(0.75), "50" -log10(0.5), "90" 1, "99" 2, "99.9" 3, "99.99" 4, "99.999" 5)
	set xlabel "latency (us)"
	set ylabel "percentile"
	set key top left
	y(p) = -log10(1 - p / 100)
	plot "$d/lat-mesh-rr-baseline.tsv" using 2:(y(\$1)) with linespoints lc "#7f7f7f" title "mesh-rr baseline", \
	     "$d/lat-mesh-rr-meshcut.tsv" using 2:(y(\$1)) with linespoints lc "#d62728" title "mesh-rr meshcut", \
	     "$d/lat-http-mesh-baseline.tsv" using 2:(y(\$1)) with linespoints dt 2 lc "#7f7f7f" title "http-mesh baseline", \
	     "$d/lat-http-mesh-meshcut.tsv" using 2:(y(\$1)) with linespoints dt 2 lc "#d62728" title "http-mesh meshcut"
	unset multiplot
GP
