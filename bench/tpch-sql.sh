#!/usr/bin/env bash
# bench/tpch-sql.sh: the 22 TPC-H queries through batchrun's sql step and
# through DuckDB, alternating query by query on the same data, with
# per-query wall times, the batchrun/DuckDB ratio, totals, and whether the
# answers agree (compared as sql/difftest compares them).
#
#   bench/tpch-sql.sh [-sf SF | -data DIR] [-runs R] [-only q01,q06] [-threads N]
#                     [-batchrun BIN] [-legacy-types]
#
#   -sf SF        data in /tmp/tpch/sf<SF> (default 1), written by
#                 ../shared/tpch/gen.sh SF
#   -data DIR     the CSV files are in DIR instead
#   -runs R       runs per query and side; times are medians (default 1)
#   -only LIST    only these queries
#   -threads N    DuckDB's threads (default 2)
#   -batchrun BIN benchmark BIN instead of a build of the working tree
#   -legacy-types read decimals as float64 and dates as string
#
# Each query is a spec with a read step per table (schemas from DuckDB's
# column types), the query as a `sql:` step and a CSV write; DuckDB reads
# the same CSV files through read_csv views on every query. The driver is
# sql/difftest/cmd/tpchsql (it links DuckDB, so it lives in that module).
# Exits 1 if a query fails or the answers differ, 2 while batchrun has no
# sql step.
set -euo pipefail
cd "$(dirname "$0")/.."

SF=1 DATA="" BIN="" ARGS=()
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	-sf) SF=${2:?}; shift 2 ;;
	-data) DATA=${2:?}; shift 2 ;;
	-batchrun) BIN=$(realpath "${2:?}"); shift 2 ;;
	-runs | -only | -threads) ARGS+=("$1" "${2:?}"); shift 2 ;;
	-legacy-types) ARGS+=("$1"); shift ;;
	-h | -help | --help) usage ;;
	*) echo "bench/tpch-sql.sh: unknown argument $1" >&2; usage ;;
	esac
done
DATA=${DATA:-/tmp/tpch/sf$SF}
if [ ! -f "$DATA/lineitem.csv" ]; then
	echo "bench/tpch-sql.sh: no TPC-H data in $DATA; generate it with ../shared/tpch/gen.sh $SF" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tpch-sql.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ -z "$BIN" ]; then
	go build -o "$tmp/batchrun" ./cmd/batchrun
	BIN=$tmp/batchrun
fi
(cd sql/difftest && go build -o "$tmp/tpchsql" ./cmd/tpchsql)
echo "TPC-H from $DATA, $(nproc) CPUs; batchrun $BIN" >&2
rc=0
"$tmp/tpchsql" -data "$DATA" -batchrun "$BIN" -queries sql/parser/testdata/tpch "${ARGS[@]}" || rc=$?
exit $rc
