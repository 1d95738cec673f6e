package statedir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
)

func (d *Dir) eventsPath(id uint64) string { return filepath.Join(d.RunDir(id), "events.jsonl") }

// AppendEvent appends one JSON line to the run's event log. Events are
// history for people and tools; resume relies on the record, so an event
// is synced only when sync says so.
func (r *Run) AppendEvent(line []byte, sync bool) error {
	if r.events == nil {
		f, err := os.OpenFile(r.d.eventsPath(r.Rec.ID), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("statedir: event log: %w", err)
		}
		r.events = f
	}
	if _, err := r.events.Write(append(bytes.TrimSpace(line), '\n')); err != nil {
		return fmt.Errorf("statedir: event log: %w", err)
	}
	if sync {
		if err := r.events.Sync(); err != nil {
			return fmt.Errorf("statedir: event log: %w", err)
		}
	}
	return nil
}

// Events returns the lines of run id's event log. A torn last line (a
// crash mid-append) is left out.
func (d *Dir) Events(id uint64) ([][]byte, error) {
	data, err := os.ReadFile(d.eventsPath(id))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("statedir: events of run %s: %w", IDString(id), err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	if len(data) > 0 && data[len(data)-1] != '\n' && len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	return lines, sc.Err()
}
