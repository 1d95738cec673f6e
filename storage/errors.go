package storage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// ErrNotFound is wrapped by errors about a partition (or subpartition) that
// has no commit record: it was never committed, or it was deleted.
// Recovery treats it as a lost partition.
var ErrNotFound = errors.New("storage: not found")

// ErrCorrupt is wrapped by every corruption error: a checksum mismatch, a
// missing or extra batch, an undecodable commit record or key, a
// corruption reported by Pebble, or a read of the store that failed (an
// unreadable partition is as lost as a corrupt one). Recovery treats it as
// a lost partition.
var ErrCorrupt = errors.New("storage: corrupt")

// ErrUnusable is wrapped by the error of Open when the store directory
// cannot be opened as a store: a MANIFEST or marker missing or damaged, a
// WAL that cannot be replayed, unreadable files, a path that is not a
// store. Its partitions are lost; the caller may move the directory aside
// and start an empty store.
var ErrUnusable = errors.New("storage: unusable store")

// UnusableError is Open's error for a store directory it cannot use. Its
// message is one line that says what is wrong and what to do: "storage:
// store DIR is unusable (CAUSE); move it aside and recompute its
// partitions".
type UnusableError struct {
	Dir string
	Err error
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("storage: store %s is unusable (%s); move it aside and recompute its partitions", e.Dir, oneLine(e.Err))
}

func (e *UnusableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnusable) true.
func (e *UnusableError) Is(target error) bool { return target == ErrUnusable }

// CorruptError is a corruption found in bytes read from the store, or a
// read of the store that failed (cause, when set).
type CorruptError struct {
	msg   string
	cause error
}

func (e *CorruptError) Error() string { return "storage: corrupt: " + e.msg }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the failure of the read, if any.
func (e *CorruptError) Unwrap() error { return e.cause }

// CorruptErrorf formats a corruption error; errors.Is(err, ErrCorrupt) holds.
func CorruptErrorf(format string, args ...any) error {
	return &CorruptError{msg: fmt.Sprintf(format, args...)}
}

// IsCorrupt reports whether err is, or wraps, a corruption error (ours or
// Pebble's).
func IsCorrupt(err error) bool {
	return errors.Is(err, ErrCorrupt) || pebble.IsCorruptionError(err)
}

// oneLine is err's message on one line. Pebble joins errors with newlines
// (several missing files; a corruption and its "<corruption detail
// carrier>"), and our callers log and report errors as single lines.
func oneLine(err error) string {
	var parts []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && l != "<corruption detail carrier>" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// asCorrupt turns a Pebble corruption error into ours, so that errors.Is
// (err, ErrCorrupt) holds and its message is one line.
func asCorrupt(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) || !pebble.IsCorruptionError(err) {
		return err
	}
	return &CorruptError{msg: oneLine(err), cause: err}
}

// unreadable classifies an error of a read of committed data: ours pass
// through, and any other failure of Pebble to read the data (a corrupt
// block, an I/O error, a missing file) makes the partition as lost as a
// corrupt one, so that recovery regenerates it instead of failing the run.
func unreadable(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
		return err
	}
	if pebble.IsCorruptionError(err) {
		return asCorrupt(err)
	}
	return &CorruptError{msg: "unreadable: " + oneLine(err), cause: err}
}

// PartitionError is an error about one partition, subpartition or attempt.
// It names them in the canonical form: "storage: read e2.3 sub 1 attempt 2:
// ...". Callers that need to know which partition was lost use errors.As.
type PartitionError struct {
	Op  string // "write", "commit", "read", "discard", "delete", ...
	Ref PartitionRef
	// Consumer is the subpartition, or -1 when the error is about the whole
	// partition.
	Consumer int
	// Attempt is the attempt, or -1 when unknown.
	Attempt int64
	Err     error
}

func (e *PartitionError) Error() string {
	var b strings.Builder
	b.WriteString("storage: ")
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Ref.String())
	if e.Consumer >= 0 {
		fmt.Fprintf(&b, " sub %d", e.Consumer)
	}
	if e.Attempt >= 0 {
		fmt.Fprintf(&b, " attempt %d", e.Attempt)
	}
	b.WriteString(": ")
	b.WriteString(strings.TrimPrefix(oneLine(e.Err), "storage: "))
	return b.String()
}

func (e *PartitionError) Unwrap() error { return e.Err }

// partErr wraps err, turning Pebble corruption errors into ours so that
// errors.Is(err, ErrCorrupt) holds for them too.
func partErr(op string, ref PartitionRef, consumer int, attempt int64, err error) error {
	if err == nil {
		return nil
	}
	var pe *PartitionError
	if errors.As(err, &pe) {
		return err
	}
	return &PartitionError{Op: op, Ref: ref, Consumer: consumer, Attempt: attempt, Err: asCorrupt(err)}
}

// readErr is partErr for reads of committed data (see unreadable).
func readErr(op string, ref PartitionRef, consumer int, attempt int64, err error) error {
	return partErr(op, ref, consumer, attempt, unreadable(err))
}
