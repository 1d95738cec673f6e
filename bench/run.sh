#!/usr/bin/env bash
# bench/run.sh: batchrun and DuckDB side by side on the peers workloads
# W1-W4 (../shared/peers/README.md), outputs checked by the peers checker.
#
#   bench/run.sh [-n ROWS] [-words-mb MB] [-runs R] [-only W2,W3] [-slots N]
#                [-rev REV] [-install-duckdb] [-keep]
#
#   -n ROWS          rows of events.csv (default 2000000)
#   -words-mb MB     size of words.txt for W1 (default 20)
#   -runs R          runs per workload and engine; figures are medians (default 3)
#   -only LIST       comma list of workloads (default W1,W2,W3,W4)
#   -slots N         batchrun --slots N and DuckDB threads=N (default: both
#                    use every CPU)
#   -rev REV         build batchrun from commit REV (git archive) instead of
#                    the working tree, e.g. while the tree is mid-edit
#   -install-duckdb  npm install @duckdb/node-api into $PEERS_NODE first
#   -keep            keep the temporary directory (outputs, reports, logs)
#
# Environment: PEERS (default ../shared/peers, relative to the repo root),
# BENCH_DATA (default /tmp/batchrun-bench; data goes to $BENCH_DATA/n<ROWS>,
# generated once), PEERS_NODE (default /tmp/peers-node).
#
# Prints, for each workload, median wall seconds / CPU seconds (user+sys) /
# peak RSS MiB of each engine (/usr/bin/time -v), the ratio of the wall
# times, whether the outputs have the same checker digest, and batchrun's
# per-stage breakdown from --report. Runs alternate between the engines so
# that both see the same machine; read the ratios, not the seconds.
set -euo pipefail

N=2000000
WORDS_MB=20
RUNS=3
ONLY=W1,W2,W3,W4
SLOTS=
REV=
INSTALL_DUCKDB=0
KEEP=0

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=${2:?}; shift 2 ;;
	-words-mb) WORDS_MB=${2:?}; shift 2 ;;
	-runs) RUNS=${2:?}; shift 2 ;;
	-only) ONLY=${2:?}; shift 2 ;;
	-slots) SLOTS=${2:?}; shift 2 ;;
	-rev) REV=${2:?}; shift 2 ;;
	-install-duckdb) INSTALL_DUCKDB=1; shift ;;
	-keep) KEEP=1; shift ;;
	-h | -help | --help) usage ;;
	*) echo "bench/run.sh: unknown argument $1" >&2; usage ;;
	esac
done
for v in "$N" "$WORDS_MB" "$RUNS" ${SLOTS:+"$SLOTS"}; do
	case "$v" in '' | *[!0-9]*) echo "bench/run.sh: not a number: $v" >&2; exit 2 ;; esac
done
[ "$RUNS" -ge 1 ] || { echo "bench/run.sh: -runs must be >= 1" >&2; exit 2; }
WORKLOADS=()
for w in ${ONLY//,/ }; do
	w=$(echo "$w" | tr a-z A-Z)
	case "$w" in W1 | W2 | W3 | W4) WORKLOADS+=("$w") ;; *) echo "bench/run.sh: unknown workload $w" >&2; exit 2 ;; esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PEERS=$(cd "$ROOT" && cd "${PEERS:-../shared/peers}" 2>/dev/null && pwd) || {
	echo "bench/run.sh: peers directory ${PEERS:-../shared/peers} not found (relative to $ROOT); set PEERS" >&2
	exit 1
}
PEERS_NODE=${PEERS_NODE:-/tmp/peers-node}
DATA_ROOT=${BENCH_DATA:-/tmp/batchrun-bench}
DATA=$DATA_ROOT/n$N
DUCKDB_VERSION=1.5.6-r.1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/batchrun-bench.XXXXXX")
cleanup() {
	if [ "$KEEP" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
mkdir -p "$tmp/out" "$tmp/rep" "$tmp/res" "$tmp/log"

say() { echo "bench: $*" >&2; }

# --- tools -----------------------------------------------------------------

if [ ! -x /usr/bin/time ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing /usr/bin/time (apt-get install time)"
		apt-get update >/dev/null && apt-get install -y time >/dev/null
	else
		echo "bench/run.sh: /usr/bin/time is missing: apt-get install time" >&2
		exit 1
	fi
fi

duckdb_hint() {
	cat >&2 <<EOF
bench: DuckDB is not installed, so batchrun runs alone and its outputs are
       compared with the README's known digests (n20m, small) where they apply.
       To install it (npm registry), either pass -install-duckdb or run:
         mkdir -p $PEERS_NODE && cd $PEERS_NODE && npm init -y >/dev/null
         npm install @duckdb/node-api@$DUCKDB_VERSION
       (the peers README also installs nodejs-polars@0.26.1 nodejs-polars-linux-x64-gnu@0.26.1)
EOF
}
if [ "$INSTALL_DUCKDB" = 1 ] && [ ! -d "$PEERS_NODE/node_modules/@duckdb/node-api" ]; then
	command -v npm >/dev/null || { echo "bench/run.sh: -install-duckdb needs node and npm (apt-get install nodejs npm)" >&2; exit 1; }
	say "installing @duckdb/node-api@$DUCKDB_VERSION into $PEERS_NODE"
	mkdir -p "$PEERS_NODE"
	(cd "$PEERS_NODE" && { [ -f package.json ] || npm init -y >/dev/null; } &&
		npm install --no-audit --no-fund "@duckdb/node-api@$DUCKDB_VERSION" >&2)
fi
HAVE_DUCKDB=0
DUCKDB_LABEL="DuckDB (not installed)"
if command -v node >/dev/null && [ -d "$PEERS_NODE/node_modules/@duckdb/node-api" ]; then
	HAVE_DUCKDB=1
	v=$(cd "$PEERS_NODE" && node -p "require('@duckdb/node-api/package.json').version" 2>/dev/null || echo '?')
	DUCKDB_LABEL="DuckDB $v"
else
	duckdb_hint
fi

say "building the peers generator and checker ($PEERS)"
(cd "$PEERS" && go build -o "$tmp/gen" ./gen && go build -o "$tmp/check" ./check)

if [ -n "$REV" ]; then
	say "building batchrun from $REV (git archive)"
	mkdir -p "$tmp/src"
	git -C "$ROOT" archive "$REV" | tar -x -C "$tmp/src"
	BUILT_FROM="$(git -C "$ROOT" rev-parse --short "$REV") (-rev $REV)"
	(cd "$tmp/src" && go build -o "$tmp/batchrun" ./cmd/batchrun)
else
	say "building batchrun from the working tree"
	BUILT_FROM="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
	[ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] || BUILT_FROM="$BUILT_FROM + uncommitted changes"
	if ! go build -o "$tmp/batchrun" ./cmd/batchrun 2>"$tmp/log/build"; then
		cat "$tmp/log/build" >&2
		echo "bench/run.sh: the working tree does not build; -rev HEAD benchmarks the last commit" >&2
		exit 1
	fi
fi
go build -o "$tmp/stages" ./bench/stages

# --- data ------------------------------------------------------------------

# Each file set carries a stamp of the flags that made it; the generator is
# deterministic, so a matching stamp means the same bytes.
mkdir -p "$DATA"
gen() { # NAME STAMP FLAGS...
	local name=$1 stamp=$2
	shift 2
	if [ "$(cat "$DATA/.$name.stamp" 2>/dev/null)" != "$stamp" ]; then
		say "generating $name into $DATA ($stamp)"
		rm -f "$DATA/.$name.stamp"
		"$tmp/gen" -out "$DATA" "$@" >&2
		echo "$stamp" >"$DATA/.$name.stamp"
	fi
}
gen events "n=$N seed=default" -n "$N" -only events,users
if [ "$WORDS_MB" -gt 0 ]; then
	gen words "words-mb=$WORDS_MB seed=default" -words-mb "$WORDS_MB" -only words
fi

# Digests of the peers README for its two datasets (default seed).
known_digest() { # W
	local set=
	[ "$N" = 200000 ] && [ "$WORDS_MB" = 5 ] && set=small
	[ "$N" = 20000000 ] && [ "$WORDS_MB" = 200 ] && set=n20m
	case "$set/$1" in
	small/W1) echo "W1 keys=84434 count=670767 sha256=2c15c39d201104d6" ;;
	small/W2) echo "W2 keys=200 count=200000 sha256=0a6ffa393884cb5f" ;;
	small/W3) echo "W3 keys=10 count=200000 sha256=d367804190c79c0f" ;;
	small/W4) echo "W4 rows=200000 sorted=ok sha256=2d5989381f2cfc9a" ;;
	n20m/W1) echo "W1 keys=199991 count=26834989 sha256=9d614f95edfe73fe" ;;
	n20m/W2) echo "W2 keys=200 count=20000000 sha256=ba98638108335532" ;;
	n20m/W3) echo "W3 keys=10 count=20000000 sha256=c5679b0435c0e6bd" ;;
	n20m/W4) echo "W4 rows=20000000 sorted=ok sha256=4e42df2c5d6086ce" ;;
	esac
}

# --- measuring -------------------------------------------------------------

# measure KEY CMD...: runs CMD under /usr/bin/time -v, appends
# "wall cpu rss_mib" to $tmp/res/KEY; returns CMD's exit status.
measure() {
	local key=$1 t0 t1 rc=0
	shift
	t0=$(date +%s.%N)
	/usr/bin/time -v -o "$tmp/log/$key.time" "$@" >"$tmp/log/$key.out" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	[ "$rc" = 0 ] || return "$rc"
	awk -v t0="$t0" -v t1="$t1" -F': ' '
		/User time \(seconds\)/ { u = $2 }
		/System time \(seconds\)/ { s = $2 }
		/Maximum resident set size \(kbytes\)/ { m = $2 }
		END { printf "%.3f %.2f %.0f\n", t1 - t0, u + s, m / 1024 }' \
		"$tmp/log/$key.time" >>"$tmp/res/$key"
}

# median FILE COL: the median of column COL (1 wall, 2 cpu, 3 rss).
median() {
	sort -g -k"$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# figures KEY: "wall s / cpu s / rss MiB" medians, or the failure.
figures() {
	local f=$tmp/res/$1
	if [ -s "$f" ]; then
		printf '%.2f s / %.1f s / %.0f MiB' "$(median "$f" 1)" "$(median "$f" 2)" "$(median "$f" 3)"
	else
		echo "-"
	fi
}

# digest W PATH: the checker's digest of a file or a directory of part files
# (every part has a header row; the checker skips only a first line, so the
# headers are dropped before concatenating).
digest() {
	local w=$1 p=$2
	if [ -d "$p" ]; then
		awk 'FNR > 1' "$p"/part-* | "$tmp/check" "$w" /dev/stdin 2>&1
	else
		"$tmp/check" "$w" "$p" 2>&1
	fi
}

BR_ARGS=()
[ -z "$SLOTS" ] || BR_ARGS+=(--slots "$SLOTS")
if [ -n "$SLOTS" ]; then export DUCKDB_THREADS=$SLOTS; fi

declare -A BR_NOTE DUCK_NOTE BR_DIGEST DUCK_DIGEST BR_REPORT
for w in "${WORKLOADS[@]}"; do
	lw=$(echo "$w" | tr A-Z a-z)
	specf=bench/specs/$lw.yaml
	brout=$tmp/out/batchrun-$w.csv
	duckout=$tmp/out/duckdb-$w.csv
	params=(-p "data=$DATA" -p "out=$brout")
	BR_NOTE[$w]=
	DUCK_NOTE[$w]=
	run_br=1
	if [ "$w" = W1 ] && [ "$WORDS_MB" = 0 ]; then
		BR_NOTE[$w]="skipped (-words-mb 0)"
		DUCK_NOTE[$w]="skipped"
		continue
	fi
	if ! "$tmp/batchrun" validate "$specf" "${params[@]}" >"$tmp/log/validate-$w" 2>&1; then
		run_br=0
		BR_NOTE[$w]="not supported yet: $(tail -n 1 "$tmp/log/validate-$w" | sed 's/^batchrun: //; s/|/\\|/g')"
		say "$w: batchrun cannot load $specf: $(tail -n 1 "$tmp/log/validate-$w")"
	fi
	for r in $(seq 1 "$RUNS"); do
		if [ "$run_br" = 1 ] && [ -z "${BR_NOTE[$w]}" ]; then
			say "$w run $r/$RUNS: batchrun"
			rm -rf "$brout" "$tmp/state"
			if ! measure "batchrun-$w" "$tmp/batchrun" run "$specf" "${params[@]}" \
				--state-dir "$tmp/state" --report "$tmp/rep/$w-$r.json" "${BR_ARGS[@]}"; then
				BR_NOTE[$w]="failed: $(grep -v '^$' "$tmp/log/batchrun-$w.out" | tail -n 1 | sed 's/|/\\|/g')"
				say "$w: batchrun failed; its output:"
				tail -n 20 "$tmp/log/batchrun-$w.out" >&2
			fi
		fi
		if [ "$HAVE_DUCKDB" = 1 ] && [ -z "${DUCK_NOTE[$w]}" ]; then
			say "$w run $r/$RUNS: DuckDB"
			rm -f "$duckout"
			if ! NODE_PATH=$PEERS_NODE/node_modules measure "duckdb-$w" node "$PEERS/node/duckdb.js" "$w" "$DATA" "$duckout"; then
				DUCK_NOTE[$w]="failed: $(grep -v '^$' "$tmp/log/duckdb-$w.out" | tail -n 1 | sed 's/|/\\|/g')"
				say "$w: DuckDB failed; its output:"
				tail -n 20 "$tmp/log/duckdb-$w.out" >&2
			fi
		fi
	done
	if [ "$run_br" = 1 ] && [ -z "${BR_NOTE[$w]}" ]; then
		say "$w: checking batchrun's output"
		BR_DIGEST[$w]=$(digest "$w" "$brout" | tail -n 1)
		# The report of the run with the median wall time.
		mw=$(median "$tmp/res/batchrun-$w" 1)
		best=1 bestd=
		for r in $(seq 1 "$RUNS"); do
			d=$(awk -v r="$r" -v m="$mw" 'NR == r { d = $1 - m; print (d < 0 ? -d : d) }' "$tmp/res/batchrun-$w")
			if [ -z "$bestd" ] || awk -v a="$d" -v b="$bestd" 'BEGIN { exit !(a < b) }'; then best=$r bestd=$d; fi
		done
		BR_REPORT[$w]=$tmp/rep/$w-$best.json
	fi
	if [ "$HAVE_DUCKDB" = 1 ] && [ -z "${DUCK_NOTE[$w]}" ]; then
		say "$w: checking DuckDB's output"
		DUCK_DIGEST[$w]=$(digest "$w" "$duckout" | tail -n 1)
	fi
done

# --- report ----------------------------------------------------------------

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo
echo "## batchrun vs DuckDB, $(date -u +%Y-%m-%d)"
echo
echo "Command: \`bench/run.sh -n $N -words-mb $WORDS_MB -runs $RUNS -only $(IFS=,; echo "${WORKLOADS[*]}")${SLOTS:+ -slots $SLOTS}${REV:+ -rev $REV}\`"
if [ "$HAVE_DUCKDB" = 1 ]; then duck_desc="$DUCKDB_LABEL, threads ${SLOTS:-default (CPUs)}"; else duck_desc="DuckDB not installed"; fi
echo "batchrun $BUILT_FROM, all-blocking (the default), slots ${SLOTS:-default (CPUs)}; $duck_desc."
echo "Machine: $(nproc) CPUs${cpu:+ ($cpu)}, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo). Data: $DATA ($N event rows, words.txt ${WORDS_MB} MB)."
echo "Figures: median of $RUNS run(s), wall s / CPU s (user+sys) / peak RSS MiB from /usr/bin/time -v; engines alternate run by run."
echo "A shared, noisy machine gives drifting absolute times: read the ratios, measured in this one run."
echo
echo "| workload | batchrun wall / CPU / RSS | $DUCKDB_LABEL wall / CPU / RSS | ratio (batchrun/DuckDB wall) | output check |"
echo "|---|---|---|---|---|"
for w in "${WORKLOADS[@]}"; do
	br=${BR_NOTE[$w]:-$(figures "batchrun-$w")}
	if [ "$HAVE_DUCKDB" = 1 ]; then duck=${DUCK_NOTE[$w]:-$(figures "duckdb-$w")}; else duck="not installed"; fi
	ratio="-"
	if [ -s "$tmp/res/batchrun-$w" ] && [ -z "${BR_NOTE[$w]}" ] && [ "$HAVE_DUCKDB" = 1 ] && [ -s "$tmp/res/duckdb-$w" ] && [ -z "${DUCK_NOTE[$w]}" ]; then
		ratio=$(awk -v a="$(median "$tmp/res/batchrun-$w" 1)" -v b="$(median "$tmp/res/duckdb-$w" 1)" 'BEGIN { printf "%.2fx", a / b }')
	fi
	bd=${BR_DIGEST[$w]:-}
	dd=${DUCK_DIGEST[$w]:-}
	kd=$(known_digest "$w")
	if [ -z "$bd" ]; then
		check="- (no batchrun output)"
		if [ -n "$dd" ] && [ -n "$kd" ]; then
			if [ "$dd" = "$kd" ]; then check="$check; DuckDB matches the README's digest"; else check="$check; DuckDB DIFFERS from the README's digest"; fi
		fi
	elif [ -n "$dd" ]; then
		if [ "$bd" = "$dd" ]; then check="same"; else check="DIFFERENT"; fi
		if [ -n "$kd" ]; then
			if [ "$bd" = "$kd" ]; then check="$check; batchrun matches the README's digest"; else check="$check; batchrun DIFFERS from the README's digest"; fi
		fi
	elif [ -n "$kd" ]; then
		if [ "$bd" = "$kd" ]; then check="same as the README's digest"; else check="DIFFERENT from the README's digest"; fi
	else
		check="no reference (DuckDB not installed, no known digest for this size)"
	fi
	echo "| $w | $br | $duck | $ratio | $check |"
done
echo
echo "Checker digests (\`check W FILE\`; part files concatenated without their headers):"
echo
for w in "${WORKLOADS[@]}"; do
	echo "- $w batchrun: \`${BR_DIGEST[$w]:--}\`"
	[ "$HAVE_DUCKDB" = 0 ] || echo "- $w DuckDB: \`${DUCK_DIGEST[$w]:--}\`"
	kd=$(known_digest "$w")
	[ -z "$kd" ] || echo "- $w README: \`$kd\`"
done
for w in "${WORKLOADS[@]}"; do
	[ -n "${BR_REPORT[$w]:-}" ] || continue
	echo
	echo "### batchrun $w by stage (--report of the median run)"
	echo
	"$tmp/stages" "${BR_REPORT[$w]}"
done
echo
echo "Stage seconds run from a stage's first subtask start to its last end; stages of one region overlap."
