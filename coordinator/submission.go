package coordinator

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/batchrun/batchrun/jobs"
)

// Submission is a run a client asks the cluster for: the spec file (a
// path every process sees) with the options of `batchrun run`, as their
// flags spell them (the leader parses them as the client did).
type Submission struct {
	Spec  string           `json:"spec"` // absolute
	Load  jobs.FileOptions `json:"load"`
	Codec string           `json:"codec,omitempty"`
	// Memory bounds the operators of the whole run (split by slots); 0 is
	// unbounded.
	Memory         int64         `json:"memory,omitempty"`
	Failover       string        `json:"failover,omitempty"`
	Restart        string        `json:"restart,omitempty"`
	Faults         []string      `json:"faults,omitempty"`
	Chaos          string        `json:"chaos,omitempty"`
	Seed           uint64        `json:"seed,omitempty"`
	Fresh          bool          `json:"fresh,omitempty"`
	Resume         string        `json:"resume,omitempty"`
	Wait           time.Duration `json:"wait,omitempty"`
	KeepPartitions bool          `json:"keep_partitions,omitempty"`
	// Client names the submitting process (host/pid); Submitted is when.
	Client    string    `json:"client"`
	Submitted time.Time `json:"submitted"`
	// Run is the run the leader started for it, once it did: a later
	// leader resumes that run rather than starting another.
	Run string `json:"run,omitempty"`
}

// runOptions are the submission's run options, parsed.
func (s *Submission) runOptions() (jobs.RunOptions, error) {
	opts := jobs.RunOptions{Memory: s.Memory, Seed: s.Seed, Fresh: s.Fresh, Resume: s.Resume,
		Wait: s.Wait, KeepPartitions: s.KeepPartitions}
	var err error
	if opts.Codec, err = jobs.ParseCodec(cmp.Or(s.Codec, "s2")); err != nil {
		return opts, &jobs.OptionError{Err: err}
	}
	if opts.Failover, err = jobs.ParseFailover(cmp.Or(s.Failover, "region")); err != nil {
		return opts, &jobs.OptionError{Err: err}
	}
	if s.Restart != "" {
		if opts.Restart, err = jobs.ParseRestart(s.Restart); err != nil {
			return opts, &jobs.OptionError{Err: err}
		}
	}
	for _, f := range s.Faults {
		spec, err := jobs.ParseFault(f)
		if err != nil {
			return opts, &jobs.OptionError{Err: err}
		}
		opts.Faults = append(opts.Faults, spec)
	}
	if s.Chaos != "" {
		if opts.Chaos, err = jobs.ParseChaos(s.Chaos); err != nil {
			return opts, &jobs.OptionError{Err: err}
		}
	}
	if s.Run != "" {
		// A leader before this one started the run: continue it.
		opts.Resume, opts.Fresh = s.Run, false
	}
	return opts, nil
}

// Result is how a submitted run ended, as the leader publishes it.
type Result struct {
	Report *jobs.Report    `json:"report,omitempty"`
	Error  string          `json:"error,omitempty"`
	Class  jobs.ErrorClass `json:"class,omitempty"`
	Leader string          `json:"leader"`
}

func newResult(report *jobs.Report, err error, leader string) Result {
	r := Result{Report: report, Leader: leader}
	if err != nil {
		r.Error, r.Class = err.Error(), jobs.Classify(err)
	}
	return r
}

// err is the result's error on the client's side.
func (r *Result) err() error {
	if r.Error == "" {
		return nil
	}
	return &RunError{Msg: r.Error, Class: r.Class}
}

// RunError is a submitted run's failure as its leader reported it.
type RunError struct {
	Msg   string
	Class jobs.ErrorClass
}

func (e *RunError) Error() string { return e.Msg }

// ErrorClass keeps the failure's class (and so its exit code) across.
func (e *RunError) ErrorClass() string { return string(e.Class) }

// event is one subtask attempt's end: for the client's progress, and the
// attempt as the report lists it, so that the client's report keeps the
// attempts of a leader that died.
type event struct {
	Stage int                 `json:"s"`
	Index int                 `json:"i"`
	Rows  int64               `json:"r,omitempty"`
	Err   string              `json:"e,omitempty"`
	A     *jobs.AttemptReport `json:"a,omitempty"`
}

// decodeEvents hands a batch of events to obs (progress) and returns the
// attempts among them.
func decodeEvents(data []byte, obs jobs.Observer) ([]jobs.AttemptReport, error) {
	var evs []event
	if err := json.Unmarshal(data, &evs); err != nil {
		return nil, fmt.Errorf("coordinator: bad progress event: %w", err)
	}
	var attempts []jobs.AttemptReport
	for _, e := range evs {
		if e.A != nil {
			attempts = append(attempts, *e.A)
		}
		if obs == nil {
			continue
		}
		var err error
		if e.Err != "" {
			err = errors.New(e.Err)
		}
		obs.SubtaskFinished(e.Stage, e.Index, e.Rows, err)
	}
	return attempts, nil
}

// mergeAttempts adds to the final leader's report the attempts the
// client heard of that it lacks (those of earlier leaders), in order of
// start.
func mergeAttempts(r *jobs.Report, heard []jobs.AttemptReport) {
	type key struct {
		subtask string
		attempt int
		start   int64
	}
	have := make(map[key]bool, len(r.Attempts))
	for _, a := range r.Attempts {
		have[key{a.Subtask, a.Attempt, a.Start.UnixNano()}] = true
	}
	for _, a := range heard {
		if !have[key{a.Subtask, a.Attempt, a.Start.UnixNano()}] {
			r.Attempts = append(r.Attempts, a)
		}
	}
	slices.SortStableFunc(r.Attempts, func(a, b jobs.AttemptReport) int { return a.Start.Compare(b.Start) })
}
