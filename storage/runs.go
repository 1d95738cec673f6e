package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// RunState is a run's lifecycle state, ordered by progress. A failed state
// is final for that attempt of the run but stays resumable: a later
// invocation with the same job and parameters continues it.
type RunState uint8

const (
	RunRunning RunState = iota
	// RunCommitting: every subtask finished; outputs are being moved into
	// place. A run killed here resumes by finishing the moves.
	RunCommitting
	RunSucceeded
	RunFailed
	// RunAbandoned: superseded by a fresh run (--fresh) or given up on.
	RunAbandoned
)

var runStateNames = [...]string{"running", "committing", "succeeded", "failed", "abandoned"}

func (s RunState) String() string {
	if int(s) < len(runStateNames) {
		return runStateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s RunState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *RunState) UnmarshalText(b []byte) error {
	for i, n := range runStateNames {
		if n == string(b) {
			*s = RunState(i)
			return nil
		}
	}
	return fmt.Errorf("storage: unknown run state %q", b)
}

// Resumable reports whether a run in this state can be continued.
func (s RunState) Resumable() bool {
	return s == RunRunning || s == RunCommitting || s == RunFailed
}

// OutputRecord is one output a run commits: its staging path and target.
type OutputRecord struct {
	Staging string `json:"staging"`
	Target  string `json:"target"`
	Single  bool   `json:"single"`
	// Ext is the part files' extension (".csv" when empty).
	Ext string `json:"ext,omitempty"`
}

// RunRecord is a run's metadata: which job with which parameters, and how
// far it got.
type RunRecord struct {
	ID     uint64            `json:"id"`
	Job    string            `json:"job"`
	Spec   string            `json:"spec"`   // the spec file
	Digest string            `json:"digest"` // of the spec text and parameters
	Params map[string]string `json:"params,omitempty"`
	State  RunState          `json:"state"`
	Start  time.Time         `json:"start"`
	End    time.Time         `json:"end,omitzero"`
	// Invocations counts the processes that worked on the run (resumes + 1).
	Invocations int `json:"invocations"`
	// Failovers counts failures recovered from, over every invocation.
	Failovers int    `json:"failovers"`
	Error     string `json:"error,omitempty"`
	// Outputs are written once the run reaches RunCommitting.
	Outputs []OutputRecord `json:"outputs,omitempty"`
}

// RunIDString is the canonical form of a run id.
func RunIDString(id uint64) string { return fmt.Sprintf("%016x", id) }

// PutRun writes rec, synced: a run record is written before the effects
// it announces (partitions of a new run, the output commit) are relied on.
func (s *Store) PutRun(rec RunRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("storage: encode run %s: %w", RunIDString(rec.ID), err)
	}
	if err := s.db.Set(makeRunKey(rec.ID), v, pebble.Sync); err != nil {
		return fmt.Errorf("storage: write run %s: %w", RunIDString(rec.ID), err)
	}
	return nil
}

// Run reads run id's record; ErrNotFound when there is none.
func (s *Store) Run(id uint64) (RunRecord, error) {
	v, closer, err := s.db.Get(makeRunKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return RunRecord{}, fmt.Errorf("storage: run %s: %w", RunIDString(id), ErrNotFound)
	}
	if err != nil {
		return RunRecord{}, fmt.Errorf("storage: read run %s: %w", RunIDString(id), err)
	}
	defer closer.Close()
	return decodeRun(id, v)
}

func decodeRun(id uint64, v []byte) (RunRecord, error) {
	var rec RunRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return RunRecord{}, CorruptErrorf("run %s: %v", RunIDString(id), err)
	}
	return rec, nil
}

// Runs lists every run record, oldest id first.
func (s *Store) Runs() ([]RunRecord, error) {
	lo := []byte{byte(kindRun)}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, fmt.Errorf("storage: list runs: %w", err)
	}
	defer it.Close()
	var runs []RunRecord
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != runKeyLen {
			return nil, CorruptErrorf("run key %x", k)
		}
		rec, err := decodeRun(binary.BigEndian.Uint64(k[1:]), it.Value())
		if err != nil {
			return nil, err
		}
		runs = append(runs, rec)
	}
	return runs, it.Error()
}

// AppendEvent appends an entry to run's event log. Events are for people
// and tools reading the history (`batchrun runs`); resume relies on run
// records and partition commit records, so events are not synced unless
// sync says so.
func (s *Store) AppendEvent(run, seq uint64, event []byte, sync bool) error {
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	if err := s.db.Set(makeEventKey(run, seq), event, opt); err != nil {
		return fmt.Errorf("storage: append event to run %s: %w", RunIDString(run), err)
	}
	return nil
}

// Events returns run's event log in order.
func (s *Store) Events(run uint64) ([][]byte, error) {
	sp := runSpan(kindEvent, run)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: sp.Start, UpperBound: sp.End})
	if err != nil {
		return nil, fmt.Errorf("storage: events of run %s: %w", RunIDString(run), err)
	}
	defer it.Close()
	var evs [][]byte
	for it.First(); it.Valid(); it.Next() {
		evs = append(evs, append([]byte(nil), it.Value()...))
	}
	return evs, it.Error()
}

// RunStoredBytes sums the stored bytes of run's committed partitions.
func (s *Store) RunStoredBytes(run uint64) (int64, error) {
	sp := runSpan(kindCommit, run)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: sp.Start, UpperBound: sp.End})
	if err != nil {
		return 0, fmt.Errorf("storage: size of run %s: %w", RunIDString(run), err)
	}
	defer it.Close()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		rec, err := decodeCommitRecord(it.Value())
		if err != nil {
			return 0, err
		}
		n += rec.Bytes
	}
	return n, it.Error()
}
