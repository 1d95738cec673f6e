package sql

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/batchrun/batchrun/jobs/spec"
)

// TestDataDriven runs the files in testdata (datadriven). Commands:
//
//	table name=T [bytes=N] [unique=a,b]
//	                         declares a table; input: one "column type" a line
//	tpch                     declares the 8 TPC-H tables (sizes of SF 1)
//	plan                     input: a query; its logical plan, each operator
//	                         with the step it became, or the rendered error
//	steps                    input: a query; the steps it compiles to
//	plan file=F              the query in sql/parser/testdata/F
//	plan types               the result's columns with their types
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var tables []Table
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "table":
				tables = append(tables, parseTable(t, d))
				return ""
			case "tpch":
				tables = append(tables, tpchTables(t)...)
				return ""
			case "plan", "steps":
				query := d.Input
				if d.HasArg("file") {
					var file string
					d.ScanArgs(t, "file", &file)
					b, err := os.ReadFile(filepath.Join("parser", "testdata", file))
					if err != nil {
						t.Fatal(err)
					}
					query = string(b)
				}
				c, err := Compile(query, Catalog{Tables: tables}, "q")
				if err != nil {
					var qe *Error
					if !errors.As(err, &qe) {
						t.Fatalf("error of type %T: %v", err, err)
					}
					return "error: " + err.Error()
				}
				schema := checkSteps(t, c, tables)
				if d.Cmd == "steps" {
					return describeSteps(c)
				}
				cols := strings.Join(c.Columns, ", ")
				if d.HasArg("types") {
					cols = schema.String()
				}
				return c.Plan + "columns: " + cols + "\n"
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func parseTable(t *testing.T, d *datadriven.TestData) Table {
	var tb Table
	d.ScanArgs(t, "name", &tb.ID)
	if d.HasArg("bytes") {
		var n int
		d.ScanArgs(t, "bytes", &n)
		tb.Bytes = float64(n)
	}
	if d.HasArg("unique") {
		var u string
		d.ScanArgs(t, "unique", &u)
		tb.Unique = strings.Split(u, ",")
	}
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		name, typ, _ := strings.Cut(strings.TrimSpace(line), " ")
		ty, err := spec.ParseType(typ)
		if err != nil {
			t.Fatal(err)
		}
		tb.Schema = append(tb.Schema, spec.Field{Name: name, Type: ty})
	}
	return tb
}

// checkSteps resolves the compiled steps as a job with the tables as reads:
// what jobs.ExpandSQL will hand to spec.Resolve.
func checkSteps(t *testing.T, c *Compiled, tables []Table) spec.Schema {
	t.Helper()
	job := &spec.Job{Name: "t"}
	for _, tb := range tables {
		job.Steps = append(job.Steps, &spec.Step{ID: tb.ID, Kind: spec.KindRead, Read: &spec.ReadStep{Path: tb.ID + ".csv", Schema: tb.Schema}})
	}
	job.Steps = append(job.Steps, c.Steps...)
	res, err := spec.Resolve(job)
	if err != nil {
		t.Fatalf("the compiled steps do not resolve: %v", err)
	}
	if got := res.Schemas["q"].Names(); strings.Join(got, ",") != strings.Join(c.Columns, ",") {
		t.Fatalf("step q has columns %v, want %v", got, c.Columns)
	}
	return res.Schemas["q"]
}

func describeSteps(c *Compiled) string {
	var sb strings.Builder
	for _, s := range c.Steps {
		fmt.Fprintf(&sb, "%s: %s(%s)\n", s.ID, s.Kind, strings.Join(s.Inputs, ", "))
	}
	return sb.String()
}

// tpchTables are the TPC-H tables with DuckDB dbgen's types (money and
// quantities decimal(15,2), dates date), their sizes at SF 1 and their
// single-column keys.
func tpchTables(t *testing.T) []Table {
	t.Helper()
	defs := []struct {
		name  string
		bytes float64
		cols  string
	}{
		{"region", 400, "r_regionkey int64, r_name string, r_comment string"},
		{"nation", 2200, "n_nationkey int64, n_name string, n_regionkey int64, n_comment string"},
		{"part", 24e6, "p_partkey int64, p_name string, p_mfgr string, p_brand string, p_type string, p_size int64, p_container string, p_retailprice decimal(15;2), p_comment string"},
		{"supplier", 1.4e6, "s_suppkey int64, s_name string, s_address string, s_nationkey int64, s_phone string, s_acctbal decimal(15;2), s_comment string"},
		{"partsupp", 118e6, "ps_partkey int64, ps_suppkey int64, ps_availqty int64, ps_supplycost decimal(15;2), ps_comment string"},
		{"customer", 24e6, "c_custkey int64, c_name string, c_address string, c_nationkey int64, c_phone string, c_acctbal decimal(15;2), c_mktsegment string, c_comment string"},
		{"orders", 170e6, "o_orderkey int64, o_custkey int64, o_orderstatus string, o_totalprice decimal(15;2), o_orderdate date, o_orderpriority string, o_clerk string, o_shippriority int64, o_comment string"},
		{"lineitem", 750e6, "l_orderkey int64, l_partkey int64, l_suppkey int64, l_linenumber int64, l_quantity decimal(15;2), l_extendedprice decimal(15;2), l_discount decimal(15;2), l_tax decimal(15;2), l_returnflag string, l_linestatus string, l_shipdate date, l_commitdate date, l_receiptdate date, l_shipinstruct string, l_shipmode string, l_comment string"},
	}
	var out []Table
	for _, def := range defs {
		tb := Table{ID: def.name, Bytes: def.bytes}
		if def.name != "partsupp" && def.name != "lineitem" {
			tb.Unique = []string{strings.Fields(def.cols)[0]} // the key, as a sample finds it
		}
		for _, col := range strings.Split(def.cols, ", ") {
			name, typ, _ := strings.Cut(col, " ")
			ty, err := spec.ParseType(strings.ReplaceAll(typ, ";", ","))
			if err != nil {
				t.Fatal(err)
			}
			tb.Schema = append(tb.Schema, spec.Field{Name: name, Type: ty})
		}
		out = append(out, tb)
	}
	return out
}
