package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestBroadcastBySize: a join broadcasts a right input read from a file
// under BroadcastBelow, or under broadcastScale times it when the left read
// is broadcastRatio times larger; never a right or full join's, nor a
// right input that is not a read, nor one whose spec says broadcast:
// false; --broadcast-below < 0 turns it off.
func TestBroadcastBySize(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		left, right int64
		typ         string
		below       int64
		want        bool
	}{
		{left: 10 * mb, right: 7 * mb, want: true},                   // small right
		{left: 10 * mb, right: 9 * mb, want: false},                  // neither small nor much smaller
		{left: 16 * 13 * mb, right: 13 * mb, want: true},             // 16x smaller (W3)
		{left: 16*13*mb - 1, right: 13 * mb, want: false},            // just under 16x
		{left: 16 * 64 * mb, right: 64 * mb, want: false},            // at the cap
		{left: 16 * 63 * mb, right: 63 * mb, want: true},             // under the cap
		{left: 1000 * mb, right: 13 * mb, typ: "right", want: false}, // keeps unmatched right rows
		{left: 1000 * mb, right: 13 * mb, typ: "left", want: true},
		{left: 1000 * mb, right: 1 * mb, below: -1, want: false},    // off
		{left: 1000 * mb, right: 3 * mb, below: 1 * mb, want: true}, // 8x the lowered threshold
		{left: 1000 * mb, right: 9 * mb, below: 1 * mb, want: false},
	} {
		name := fmt.Sprintf("left=%d/right=%d/%s/below=%d", tc.left, tc.right, tc.typ, tc.below)
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for name, size := range map[string]int64{"l.csv": tc.left, "r.csv": tc.right} {
				if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(filepath.Join(dir, name), size); err != nil { // sparse
					t.Fatal(err)
				}
			}
			typ := tc.typ
			if typ == "" {
				typ = "inner"
			}
			src := fmt.Sprintf(`name: b
steps:
  - id: l
    read: {path: %s/l.csv, schema: ["k int64", "v float64"]}
  - id: r
    read: {path: %s/r.csv, schema: ["k int64", "s string"]}
  - id: j
    join: {left: l, right: r, on: [k], type: %s}
  - id: f
    filter: "k > 0"
    input: r
  - id: j2
    join: {left: l, right: f, on: [k], type: %s}
  - id: out
    write: {path: %s/out.csv}
    input: j
  - id: j3
    join: {left: l, right: r, on: [k], type: %s, broadcast: false}
  - id: out2
    write: {path: %s/out2.csv}
    input: j2
  - id: out3
    write: {path: %s/out3.csv}
    input: j3
`, dir, dir, typ, typ, dir, typ, dir, dir)
			spec := filepath.Join(dir, "job.yaml")
			if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := LoadFile(spec, FileOptions{BroadcastBelow: tc.below})
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Job.Step("j").Join.Broadcast; got != tc.want {
				t.Errorf("join of a %d-byte left and a %d-byte right broadcasts: %v, want %v", tc.left, tc.right, got, tc.want)
			}
			if l.Job.Step("j2").Join.Broadcast {
				t.Errorf("a join whose right input is a filter broadcasts")
			}
			if l.Job.Step("j3").Join.Broadcast {
				t.Errorf("a join with broadcast: false broadcasts")
			}
		})
	}
}
