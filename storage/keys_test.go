package storage

import (
	"bytes"
	"sort"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	ref := PartitionRef{Run: 7, Edge: 2, Producer: 3}
	spill := PartitionRef{Run: 7, Edge: 2, Producer: 3, Space: SpaceSpill}
	big := PartitionRef{Run: 1<<64 - 1, Edge: 1<<32 - 1, Producer: 1<<32 - 1}
	cases := []struct {
		b    []byte
		want key
	}{
		{makeDataKey(ref, 1, 4, 9), key{Kind: kindData, Run: 7, Edge: 2, Producer: 3, Attempt: 1, Consumer: 4, Seq: 9}},
		{makeDataKey(big, 1<<32-1, 1<<32-1, 1<<64-1), key{Kind: kindData, Run: big.Run, Edge: big.Edge, Producer: big.Producer, Attempt: 1<<32 - 1, Consumer: 1<<32 - 1, Seq: 1<<64 - 1}},
		{makeMarkerKey(ref, 1, 4, headMarker), key{Kind: kindData, Marker: headMarker, Run: 7, Edge: 2, Producer: 3, Attempt: 1, Consumer: 4}},
		{makeMarkerKey(ref, 1, 4, tailMarker), key{Kind: kindData, Marker: tailMarker, Run: 7, Edge: 2, Producer: 3, Attempt: 1, Consumer: 4}},
		{makeCommitKey(ref, 5), key{Kind: kindCommit, Run: 7, Edge: 2, Producer: 3, Consumer: 5}},
		{makeEventKey(7, 11), key{Kind: kindEvent, Run: 7, Seq: 11}},
		{makeRunKey(7), key{Kind: kindRun, Run: 7}},
		{makeDataKey(spill, 1, 0, 9), key{Kind: kindSpillData, Run: 7, Edge: 2, Producer: 3, Attempt: 1, Seq: 9}},
		{makeMarkerKey(spill, 1, 0, tailMarker), key{Kind: kindSpillData, Marker: tailMarker, Run: 7, Edge: 2, Producer: 3, Attempt: 1}},
		{makeCommitKey(spill, 0), key{Kind: kindSpillCommit, Run: 7, Edge: 2, Producer: 3}},
	}
	for _, c := range cases {
		got, err := parseKey(c.b)
		if err != nil || got != c.want {
			t.Errorf("parseKey(%x) = %v, %v, want %v", c.b, got, err, c.want)
		}
	}
	for _, bad := range [][]byte{nil, {0}, {byte(kindData), 1, 2}, {99, 0, 0, 0, 0, 0, 0, 0, 0}, append(makeRunKey(1), 0), append(makeDataKey(ref, 0, 0, 0), 0xfe)} {
		if _, err := parseKey(bad); !IsCorrupt(err) {
			t.Errorf("parseKey(%x) error = %v, want a corruption error", bad, err)
		}
	}
}

func TestKeyOrder(t *testing.T) {
	// Listed in the intended order: kind, run, edge, producer, attempt,
	// consumer, seq (seq compared numerically, not as text).
	ordered := []key{
		{Kind: kindData, Marker: headMarker, Run: 1},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 0, Attempt: 0, Consumer: 0, Seq: 0},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 0, Attempt: 0, Consumer: 0, Seq: 2},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 0, Attempt: 0, Consumer: 0, Seq: 10},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 0, Attempt: 0, Consumer: 0, Seq: 1<<64 - 1},
		{Kind: kindData, Marker: tailMarker, Run: 1},
		{Kind: kindData, Marker: headMarker, Run: 1, Consumer: 1},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 0, Attempt: 0, Consumer: 1, Seq: 0},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 0, Attempt: 1, Consumer: 0, Seq: 0},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 2, Attempt: 0, Consumer: 0, Seq: 0},
		{Kind: kindData, Run: 1, Edge: 0, Producer: 256, Attempt: 0, Consumer: 0, Seq: 0},
		{Kind: kindData, Run: 1, Edge: 3, Producer: 0, Attempt: 0, Consumer: 0, Seq: 0},
		{Kind: kindData, Run: 2, Edge: 0, Producer: 0, Attempt: 0, Consumer: 0, Seq: 0},
		{Kind: kindCommit, Run: 1, Edge: 0, Producer: 0, Consumer: 0},
		{Kind: kindCommit, Run: 1, Edge: 0, Producer: 0, Consumer: 1},
		{Kind: kindCommit, Run: 1, Edge: 1, Producer: 0, Consumer: 0},
		{Kind: kindEvent, Run: 1, Seq: 0},
		{Kind: kindEvent, Run: 1, Seq: 300},
		{Kind: kindRun, Run: 1},
	}
	enc := make([][]byte, len(ordered))
	for i, k := range ordered {
		enc[i] = encodeKey(k)
	}
	if !sort.SliceIsSorted(enc, func(i, j int) bool { return bytes.Compare(enc[i], enc[j]) < 0 }) {
		for i := 1; i < len(enc); i++ {
			if bytes.Compare(enc[i-1], enc[i]) >= 0 {
				t.Errorf("%v sorts after %v", ordered[i-1], ordered[i])
			}
		}
	}
}

func encodeKey(k key) []byte {
	ref := PartitionRef{Run: k.Run, Edge: k.Edge, Producer: k.Producer}
	switch k.Kind {
	case kindData:
		if k.Marker != notMarker {
			return makeMarkerKey(ref, k.Attempt, k.Consumer, k.Marker)
		}
		return makeDataKey(ref, k.Attempt, k.Consumer, k.Seq)
	case kindCommit:
		return makeCommitKey(ref, k.Consumer)
	case kindEvent:
		return makeEventKey(k.Run, k.Seq)
	}
	return makeRunKey(k.Run)
}

func TestSpans(t *testing.T) {
	ref := PartitionRef{Run: 1, Edge: 2, Producer: 3}
	in := func(s span, k []byte) bool { return bytes.Compare(s.Start, k) <= 0 && bytes.Compare(k, s.End) < 0 }
	cases := []struct {
		name string
		s    span
		k    []byte
		want bool
	}{
		{"attempt", attemptSpan(ref, 2), makeDataKey(ref, 2, 1<<32-1, 1<<64-1), true},
		{"attempt", attemptSpan(ref, 2), makeDataKey(ref, 3, 0, 0), false},
		{"older", olderAttemptsSpan(ref, 2), makeDataKey(ref, 1, 9, 9), true},
		{"older", olderAttemptsSpan(ref, 2), makeDataKey(ref, 2, 0, 0), false},
		{"sub", subpartitionSpan(ref, 2, 1), makeDataKey(ref, 2, 1, 5), true},
		{"sub", subpartitionSpan(ref, 2, 1), makeDataKey(ref, 2, 2, 0), false},
		{"sub", subpartitionSpan(ref, 2, 1), makeMarkerKey(ref, 2, 1, headMarker), true},
		{"sub", subpartitionSpan(ref, 2, 1), makeMarkerKey(ref, 2, 1, tailMarker), true},
		{"partition", partitionDataSpan(ref), makeDataKey(ref, 1<<32-1, 0, 0), true},
		{"partition", partitionDataSpan(ref), makeCommitKey(ref, 0), false},
		{"commits", partitionCommitSpan(ref), makeCommitKey(ref, 7), true},
		{"run", runSpan(kindData, 1), makeDataKey(PartitionRef{Run: 2}, 0, 0, 0), false},
		{"run", runSpan(kindEvent, 1), makeEventKey(1, 5), true},
	}
	for _, c := range cases {
		if got := in(c.s, c.k); got != c.want {
			t.Errorf("%s span contains %v = %t, want %t", c.name, mustParse(t, c.k), got, c.want)
		}
	}
}

func mustParse(t *testing.T, b []byte) key {
	k, err := parseKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
