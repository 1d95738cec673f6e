package parser

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs every file in testdata (datadriven). Commands:
//
//	parse          a query (or file=F, a file under testdata): its
//	               canonical form, or the rendered error
//	expr           one expression: its canonical form, or the rendered error
//	error          a query that must fail: the error with its caret
//	positions      a query: every node's kind and line:column, in tree order
//
// Every query that parses is also checked to round-trip.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Dir(path) != "testdata" {
			return // testdata/tpch holds queries, testdata/fuzz the fuzz corpus
		}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "parse": // parse [file=tpch/q01.sql]\n<query, or nothing with file>
				src := d.Input
				if d.HasArg("file") {
					var file string
					d.ScanArgs(t, "file", &file)
					src = readFile(t, filepath.Join("testdata", file))
				}
				q, err := Parse(src)
				if err != nil {
					return render(src, err)
				}
				checkRoundTrip(t, src, q)
				return Format(q) + "\n"
			case "expr": // expr\n<expression>
				e, err := ParseExpr(d.Input)
				if err != nil {
					return render(d.Input, err)
				}
				return Format(e) + "\n"
			case "error": // error\n<query that must not parse>
				q, err := Parse(d.Input)
				if err == nil {
					d.Fatalf(t, "parsed, want an error:\n%s", Format(q))
				}
				return render(d.Input, err)
			case "positions": // positions\n<query>
				q, err := Parse(d.Input)
				if err != nil {
					return render(d.Input, err)
				}
				return describePositions(q)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

// render is an error as a user sees it: message, line, caret.
func render(src string, err error) string {
	var perr *Error
	if !errors.As(err, &perr) {
		return fmt.Sprintf("error (not *Error): %v\n", err)
	}
	return perr.Render(src)
}

// describePositions lists every node under q with its position, indented
// by depth, so a test shows where each node points.
func describePositions(q *Query) string {
	var b strings.Builder
	depth := 0
	Inspect(q, func(n Node) bool {
		if n == nil {
			depth--
			return false
		}
		fmt.Fprintf(&b, "%s%s %d:%d\n", strings.Repeat("  ", depth), strings.TrimPrefix(fmt.Sprintf("%T", n), "*parser."), n.Position().Line, n.Position().Col)
		depth++
		return true
	})
	return b.String()
}
