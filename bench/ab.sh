#!/usr/bin/env bash
# bench/ab.sh: two batchrun binaries side by side on the same specs, for a
# before/after table: runs alternate (old, new, old, new, ...) so that both
# see the same noisy machine; figures are medians; outputs are compared.
#
#   bench/ab.sh [-runs R] [-slots N] OLD NEW SPEC=DATA...
#
#   OLD, NEW   batchrun binaries (e.g. built from main and from a branch)
#   SPEC=DATA  a spec taking -p data=DIR -p out=FILE, and its data directory:
#              bench/specs/w2.yaml=/tmp/batchrun-bench/n2000000 (bench/run.sh
#              generates it), bench/specs/tpch-q6.yaml=/tmp/tpch/sf0.1
#              (../shared/tpch/gen.sh 0.1 writes it)
#   -runs R    runs per spec and binary (default 5)
#   -slots N   --slots N (default 2)
#
# Each run starts from an empty state directory and output. Prints a
# markdown table: median wall and CPU (user+sys) seconds and peak RSS of
# each binary (/usr/bin/time), the new/old ratios, and whether the two
# outputs have the same md5.
set -euo pipefail

RUNS=5
SLOTS=2
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-runs) RUNS=${2:?}; shift 2 ;;
	-slots) SLOTS=${2:?}; shift 2 ;;
	-h | -help | --help) usage ;;
	-*) echo "bench/ab.sh: unknown flag $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] || usage
OLD=$(realpath "$1") NEW=$(realpath "$2")
shift 2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/batchrun-ab.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# run SPEC DATA WHICH BIN: one timed run, "wall cpu rss_kib" appended to
# $tmp/<spec>.<which>.
run() {
	local spec=$1 data=$2 which=$3 bin=$4 name
	name=$(basename "$spec" .yaml)
	rm -rf "$tmp/state" "$tmp/$name.$which.out"
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$bin" run "$spec" -p data="$data" \
		-p out="$tmp/$name.$which.out" --state-dir "$tmp/state" --slots "$SLOTS" >/dev/null
	awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4}' "$tmp/time" >>"$tmp/$name.$which"
}

median() { # FILE COLUMN
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "| spec | old wall s | new wall s | new/old | old CPU s | new CPU s | new/old | old RSS MiB | new RSS MiB | outputs |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for arg in "$@"; do
	spec=${arg%%=*} data=${arg#*=}
	name=$(basename "$spec" .yaml)
	for _ in $(seq "$RUNS"); do
		run "$spec" "$data" old "$OLD"
		run "$spec" "$data" new "$NEW"
	done
	same=differ
	cmp -s "$tmp/$name.old.out" "$tmp/$name.new.out" && same="same md5"
	ow=$(median "$tmp/$name.old" 1) nw=$(median "$tmp/$name.new" 1)
	oc=$(median "$tmp/$name.old" 2) nc=$(median "$tmp/$name.new" 2)
	orss=$(median "$tmp/$name.old" 3) nrss=$(median "$tmp/$name.new" 3)
	awk -v n="$name" -v ow="$ow" -v nw="$nw" -v oc="$oc" -v nc="$nc" -v orss="$orss" -v nrss="$nrss" -v s="$same" \
		'BEGIN {printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | %s |\n", n, ow, nw, nw / ow, oc, nc, nc / oc, orss / 1024, nrss / 1024, s}'
done
