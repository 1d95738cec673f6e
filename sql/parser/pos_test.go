package parser

import "testing"

// TestCaret covers the caret's alignment cases directly: tabs, characters
// of several bytes, an error at the end of the input, CRLF line ends.
func TestCaret(t *testing.T) {
	for _, tc := range []struct {
		src  string
		off  int
		want string
	}{
		{"SELECT x", 7, "SELECT x\n       ^\n"},
		{"a\n\tb c", 5, "\tb c\n\t  ^\n"},
		{"'é' x", 5, "'é' x\n    ^\n"},
		{"SELECT", 6, "SELECT\n      ^\n"},
		{"a\r\nb", 3, "b\n^\n"},
		{"", 0, "\n^\n"},
	} {
		if got := Caret(tc.src, Pos{Offset: tc.off}); got != tc.want {
			t.Errorf("Caret(%q, offset %d) = %q, want %q", tc.src, tc.off, got, tc.want)
		}
	}
}

// TestLexPositions checks that token columns count characters and lines
// restart them, the numbers Caret and Error show.
func TestLexPositions(t *testing.T) {
	toks, err := lex("'é' x\n  yé z")
	if err != nil {
		t.Fatal(err)
	}
	var got []Pos
	for _, tk := range toks {
		got = append(got, tk.pos)
	}
	want := []Pos{{0, 1, 1}, {5, 1, 5}, {9, 2, 3}, {13, 2, 6}, {14, 2, 7}}
	if len(got) != len(want) {
		t.Fatalf("lex: %d tokens %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d (%q) at %+v, want %+v", i, toks[i].text, got[i], want[i])
		}
	}
}
