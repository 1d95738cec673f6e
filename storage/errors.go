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
// missing or extra batch, an undecodable commit record or key, or a
// corruption reported by Pebble. Recovery treats it as a lost partition.
var ErrCorrupt = errors.New("storage: corrupt")

// ErrUnusable is wrapped by the error of Open when the store directory
// cannot be opened as a store: a MANIFEST or marker missing or damaged, a
// WAL that cannot be replayed, unreadable files. Its partitions are lost;
// the caller may move the directory aside and start an empty store.
var ErrUnusable = errors.New("storage: unusable store")

// UnusableError is Open's error for a store directory it cannot use.
type UnusableError struct {
	Dir string
	Err error
}

func (e *UnusableError) Error() string {
	return fmt.Sprintf("storage: store %s is unusable (%v)", e.Dir, e.Err)
}

func (e *UnusableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnusable) true.
func (e *UnusableError) Is(target error) bool { return target == ErrUnusable }

// CorruptError is a corruption found in bytes read from the store.
type CorruptError struct{ msg string }

func (e *CorruptError) Error() string { return "storage: corrupt: " + e.msg }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// CorruptErrorf formats a corruption error; errors.Is(err, ErrCorrupt) holds.
func CorruptErrorf(format string, args ...any) error {
	return &CorruptError{msg: fmt.Sprintf(format, args...)}
}

// IsCorrupt reports whether err is, or wraps, a corruption error (ours or
// Pebble's).
func IsCorrupt(err error) bool {
	return errors.Is(err, ErrCorrupt) || pebble.IsCorruptionError(err)
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
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "storage: "))
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
	if !errors.Is(err, ErrCorrupt) && pebble.IsCorruptionError(err) {
		err = &CorruptError{msg: err.Error()}
	}
	return &PartitionError{Op: op, Ref: ref, Consumer: consumer, Attempt: attempt, Err: err}
}
