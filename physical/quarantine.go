package physical

import (
	"bufio"
	"fmt"
	"os"
)

// QuarantineOutput is the output name of a read's quarantine file(s).
func QuarantineOutput(step string) string { return step + ".quarantine" }

// quarantineFile is one subtask's part of a read's quarantine output: the
// malformed rows it dropped, buffered, synced at finish.
type quarantineFile struct {
	f    *os.File
	w    *bufio.Writer
	path string // published there at finish (partfile.go)
}

func openQuarantine(path string) (*quarantineFile, error) {
	f, err := os.Create(PartialPath(path))
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return &quarantineFile{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path}, nil
}

func (q *quarantineFile) Write(p []byte) (int, error) { return q.w.Write(p) }

// finish flushes and syncs the file; close still runs after it.
func (q *quarantineFile) finish() error {
	if err := q.w.Flush(); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	if err := q.f.Sync(); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return publishPart(q.path)
}

func (q *quarantineFile) close() { _ = q.f.Close() }
