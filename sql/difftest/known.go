package difftest

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Known is testdata/known-failures.txt: the queries expected to fail, by
// name, each with the reason it failed when it was listed. A listed query
// that fails is skipped; a listed query that passes fails its test, so the
// list only shrinks; a query not listed must pass.
type Known map[string]string

const knownHeader = `# Queries that batchrun is known to answer wrongly or not at all, one per
# line: the test name, then why it failed when it was listed. A listed
# query that fails is skipped; one that passes fails its test until it is
# removed from here, so this list only shrinks. Rewrite it from the current
# results with (in sql/difftest): go test . -difftest.update-known
`

// ReadKnown reads the file at path; a missing file lists nothing.
func ReadKnown(path string) (Known, error) {
	k := Known{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, _ := strings.Cut(line, " ")
		if _, dup := k[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", path, n, name)
		}
		k[name] = strings.TrimSpace(reason)
	}
	return k, sc.Err()
}

// Write writes k to path, sorted by name.
func (k Known) Write(path string) error {
	var b strings.Builder
	b.WriteString(knownHeader)
	names := make([]string, 0, len(k))
	for name := range k {
		names = append(names, name)
	}
	slices.SortFunc(names, compareNames)
	for _, name := range names {
		fmt.Fprintf(&b, "%s %s\n", name, k[name])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// compareNames sorts names with their numbers in numeric order, so that
// generated/seed=9 comes before generated/seed=10.
func compareNames(a, b string) int {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if pa != pb {
		return strings.Compare(pa, pb)
	}
	if len(na) != len(nb) {
		return len(na) - len(nb)
	}
	return strings.Compare(na, nb)
}

func splitNumber(s string) (prefix, digits string) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return s[:i], s[i:]
}
