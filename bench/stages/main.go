// Command stages prints the per-stage breakdown of a batchrun --report
// JSON file as a markdown table; bench/run.sh uses it.
//
//	go run ./bench/stages REPORT.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type stage struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Ops      string  `json:"ops"`
	Subtasks int     `json:"subtasks"`
	Attempts int     `json:"attempts"`
	RowsIn   int64   `json:"rows_in"`
	RowsOut  int64   `json:"rows_out"`
	Spilled  int64   `json:"bytes_spilled"`
	Stored   int64   `json:"bytes_stored"`
	Seconds  float64 `json:"seconds"`
}

type report struct {
	Job     string  `json:"job"`
	Status  string  `json:"status"`
	Mode    string  `json:"mode"`
	Slots   int     `json:"slots"`
	Codec   string  `json:"codec"`
	Seconds float64 `json:"seconds"`
	Stages  []stage `json:"stages"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: stages REPORT.json")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Printf("job %s %s: %.2f s in the runner, mode %s, slots %d, codec %s\n\n",
		r.Job, r.Status, r.Seconds, r.Mode, r.Slots, r.Codec)
	fmt.Println("| stage | ops | subtasks | rows in | rows out | spilled MiB | stored MiB | seconds |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	var sp, st int64
	for _, s := range r.Stages {
		sub := fmt.Sprint(s.Subtasks)
		if s.Attempts != s.Subtasks {
			sub = fmt.Sprintf("%d (%d attempts)", s.Subtasks, s.Attempts)
		}
		fmt.Printf("| %s %s | %s | %s | %d | %d | %.1f | %.1f | %.2f |\n",
			s.ID, s.Name, s.Ops, sub, s.RowsIn, s.RowsOut, mib(s.Spilled), mib(s.Stored), s.Seconds)
		sp += s.Spilled
		st += s.Stored
	}
	fmt.Printf("| total | | | | | %.1f | %.1f | %.2f |\n", mib(sp), mib(st), r.Seconds)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
