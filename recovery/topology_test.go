package recovery

import "testing"

func TestNewTopologyErrors(t *testing.T) {
	two := []Subtask{{Name: "a[0]"}, {Name: "b[0]"}}
	both := []Region{{Subtasks: []SubtaskID{0}}, {Subtasks: []SubtaskID{1}}}
	tests := []struct {
		name       string
		subtasks   []Subtask
		regions    []Region
		partitions []Partition
		want       string
	}{
		{"empty name", []Subtask{{}}, nil, nil,
			`recovery: subtask name "": want a non-empty name without spaces`},
		{"space", []Subtask{{Name: "a 0"}}, nil, nil,
			`recovery: subtask name "a 0": want a non-empty name without spaces`},
		{"duplicate", []Subtask{{Name: "a"}, {Name: "a"}}, nil, nil,
			`recovery: subtask name "a" used twice`},
		{"region out of range", two, []Region{{Subtasks: []SubtaskID{0, 2}}}, nil,
			`recovery: region r0: no subtask t2`},
		{"producer out of range", two, both, []Partition{{Name: "p", Producer: 5}},
			`recovery: partition p: no producer subtask t5`},
		{"consumer out of range", two, both, []Partition{{Name: "p", Consumers: []SubtaskID{-1}}},
			`recovery: partition p: no consumer subtask t-1`},
		{"self", two, both, []Partition{{Name: "p", Consumers: []SubtaskID{0}}},
			`recovery: partition p: a[0] consumes its own output`},
		{"consumer twice", two, both, []Partition{{Name: "p", Consumers: []SubtaskID{1, 1}}},
			`recovery: partition p: consumer b[0] listed twice`},
		{"partition twice", two, both, []Partition{{Name: "p"}, {Name: "p"}},
			`recovery: partition name "p" used twice`},
		{"bad mode", two, both, []Partition{{Name: "p", Mode: 7}},
			`recovery: partition p: bad mode(7)`},
	}
	for _, tt := range tests {
		_, err := NewTopology(tt.subtasks, tt.regions, tt.partitions)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: NewTopology error = %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestStateValidate(t *testing.T) {
	ts, err := parseTopoSpec("stage a\nstage b\nstage c\nedge a -> b forward pipelined\nedge b -> c forward blocking\n")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := ts.build()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		progress  []Progress
		available []bool
		want      string
	}{
		{"ok", []Progress{Finished, Finished, Running}, []bool{false, true}, ""},
		{"short", []Progress{Finished}, []bool{false, true},
			"recovery: state has 1 subtasks and 2 partitions, topology 3 and 2"},
		{"bad progress", []Progress{Finished, 9, Pending}, []bool{false, false},
			"recovery: subtask b[0]: bad progress(9)"},
		{"pipelined available", []Progress{Finished, Finished, Running}, []bool{true, true},
			"recovery: partition a[0]->b is pipelined and cannot be available"},
		{"producer not finished", []Progress{Running, Running, Pending}, []bool{false, true},
			"recovery: partition b[0]->c is available but its producer b[0] is running"},
	}
	for _, tt := range tests {
		s := &State{Progress: tt.progress, Available: tt.available}
		got := ""
		if err := s.Validate(topo); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Validate = %q, want %q", tt.name, got, tt.want)
		}
	}
}
