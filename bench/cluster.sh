#!/usr/bin/env bash
# bench/cluster.sh: the bench workloads W1-W4 run locally and on a loopback
# cluster (etcd, one coordinator, WORKERS workers), alternating, to measure
# what running on workers costs: scheduling through the coordinator, and
# every blocking partition read by another worker going over Arrow Flight.
#
#   bench/cluster.sh [-n ROWS] [-runs R] [-workers W] [-slots S] [-only W2,W3]
#
#   -n ROWS     the data of bench/run.sh -n ROWS (default 2000000); run
#               bench/run.sh -n ROWS once first to generate it
#   -runs R     runs per workload and mode; figures are medians (default 3)
#   -workers W  worker processes (default 3), each with --slots S
#   -slots S    slots per worker, and the local run's --slots (default 2)
#   -only LIST  comma list of workloads (default W1,W2,W3,W4)
#
# Needs etcd on PATH (Debian: apt-get install etcd-server). Prints a
# markdown table: median wall seconds of each mode, the ratio
# cluster/local, the rows and Arrow bytes the workers served each other
# over Flight (their /metrics, per run), and whether the outputs are equal.
# The machine's cores are shared by every process: read the ratios.
set -euo pipefail

N=2000000
RUNS=3
WORKERS=3
SLOTS=2
ONLY=W1,W2,W3,W4
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=${2:?}; shift 2 ;;
	-runs) RUNS=${2:?}; shift 2 ;;
	-workers) WORKERS=${2:?}; shift 2 ;;
	-slots) SLOTS=${2:?}; shift 2 ;;
	-only) ONLY=${2:?}; shift 2 ;;
	-h | -help | --help) usage ;;
	*) echo "bench/cluster.sh: unknown argument $1" >&2; usage ;;
	esac
done
cd "$(dirname "$0")/.."
DATA=${BENCH_DATA:-/tmp/batchrun-bench}/n$N
[ -f "$DATA/events.csv" ] || { echo "bench/cluster.sh: no data in $DATA: run bench/run.sh -n $N first" >&2; exit 2; }
command -v etcd >/dev/null || { echo "bench/cluster.sh: etcd not on PATH (apt-get install etcd-server)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/batchrun-cluster.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/batchrun" ./cmd/batchrun
BR=$tmp/batchrun

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
EP=127.0.0.1:$(free_port)
etcd --data-dir "$tmp/etcd" --listen-client-urls "http://$EP" --advertise-client-urls "http://$EP" \
	--listen-peer-urls "http://127.0.0.1:$(free_port)" >"$tmp/etcd.log" 2>&1 &
pids+=($!)
until "$BR" cluster status --etcd "$EP" >/dev/null 2>&1; do sleep 0.2; done

METRICS=()
for i in $(seq 1 "$WORKERS"); do
	m=127.0.0.1:$(free_port)
	"$BR" worker --listen 127.0.0.1:0 --state-dir "$tmp/w$i" --slots "$SLOTS" --etcd "$EP" \
		--metrics-listen "$m" --log-level error >"$tmp/w$i.out" 2>&1 &
	pids+=($!)
	METRICS+=("$m")
done
"$BR" coordinator --listen 127.0.0.1:0 --state-dir "$tmp/coord" --etcd "$EP" --log-level error >"$tmp/coord.out" 2>&1 &
pids+=($!)
until grep -q "serving at" "$tmp/coord.out" && [ "$("$BR" cluster status --etcd "$EP" --json | grep -c '"slots":')" -gt "$WORKERS" ]; do sleep 0.2; done

# served prints the rows and bytes the workers served so far.
served() {
	local rows=0 bytes=0 m
	for m in "${METRICS[@]}"; do
		read -r r b < <(curl -s "http://$m/metrics" | awk '/^batchrun_worker_rows_served_total/ {r=$2} /^batchrun_worker_bytes_served_total/ {b=$2} END {printf "%.0f %.0f\n", r, b}')
		rows=$((rows + r)) bytes=$((bytes + b))
	done
	echo "$rows $bytes"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# timed MODE W OUT: runs workload W in MODE (local or cluster) into OUT and
# prints its wall seconds.
timed() {
	local mode=$1 w=$2 out=$3 spec args start end
	spec=bench/specs/$(echo "$w" | tr A-Z a-z).yaml
	args=(run "$spec" -p "data=$DATA" -p "out=$out" --progress=false)
	rm -rf "$tmp/st" "$out"
	if [ "$mode" = local ]; then args+=(--state-dir "$tmp/st" --slots "$SLOTS"); else args+=(--state-dir "$tmp/st" --cluster "$EP"); fi
	start=$(date +%s.%N)
	"$BR" "${args[@]}" >"$tmp/run.out" 2>&1 || { echo "bench/cluster.sh: $mode $w failed:" >&2; cat "$tmp/run.out" >&2; exit 1; }
	end=$(date +%s.%N)
	echo "$end - $start" | bc
}

echo "| workload | local wall s | cluster wall s | cluster/local | rows over Flight | MiB over Flight (Arrow) | outputs |"
echo "|---|---|---|---|---|---|---|"
for w in ${ONLY//,/ }; do
	: >"$tmp/local.t"
	: >"$tmp/cluster.t"
	: >"$tmp/bytes"
	same=same
	for _ in $(seq 1 "$RUNS"); do
		timed local "$w" "$tmp/local.csv" >>"$tmp/local.t"
		read -r r0 b0 < <(served)
		timed cluster "$w" "$tmp/cluster.csv" >>"$tmp/cluster.t"
		read -r r1 b1 < <(served)
		echo "$((r1 - r0)) $((b1 - b0))" >>"$tmp/bytes"
		if [ "$(sort "$tmp/local.csv" | md5sum)" != "$(sort "$tmp/cluster.csv" | md5sum)" ]; then same=DIFFER; fi
	done
	lt=$(median <"$tmp/local.t")
	ct=$(median <"$tmp/cluster.t")
	rows=$(awk '{print $1}' "$tmp/bytes" | median)
	mib=$(awk '{print $2}' "$tmp/bytes" | median | awk '{printf "%.1f", $1 / 1048576}')
	printf "| %s | %.2f | %.2f | %.2f | %s | %s | %s |\n" "$w" "$lt" "$ct" "$(echo "$ct / $lt" | bc -l)" "$rows" "$mib" "$same"
done
echo
echo "Command: \`bench/cluster.sh -n $N -runs $RUNS -workers $WORKERS -slots $SLOTS -only $ONLY\`; $(nproc) CPUs shared by etcd, the coordinator, $WORKERS workers and the local runs (alternating)."
