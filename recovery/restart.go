package recovery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// ErrGiveUp is the sentinel a job's error wraps when its restart strategy
// gave up (Decision.Err).
var ErrGiveUp = errors.New("recovery: restart strategy gave up")

// Decision is a restart strategy's answer to one failure.
type Decision struct {
	// Restart: restart the failover's restart set after Delay. False: give
	// up and fail the job.
	Restart bool
	Delay   time.Duration
	// Reason explains the decision, for logs and the run report.
	Reason string
}

// String prints "restart after 1s (fixed-delay: attempt 1 of 3)" or
// "give up (fixed-delay: 3 attempts used)".
func (d Decision) String() string {
	if d.Restart {
		return fmt.Sprintf("restart after %v (%s)", d.Delay, d.Reason)
	}
	return fmt.Sprintf("give up (%s)", d.Reason)
}

// Err returns nil for a restart, and otherwise the job's error: it wraps
// both ErrGiveUp and cause, the failure that made the strategy give up.
func (d Decision) Err(cause error) error {
	if d.Restart {
		return nil
	}
	if cause == nil {
		return fmt.Errorf("%w (%s)", ErrGiveUp, d.Reason)
	}
	return fmt.Errorf("%w (%s): %w", ErrGiveUp, d.Reason, cause)
}

// RestartStrategy decides whether and when a job restarts after a failure.
// It is a state machine fed failure events; it never reads the clock or
// sleeps. Giving up is final: every later failure gets the same Decision.
// Times must not go backwards; a time before the previous one is taken as
// the previous one. Not safe for concurrent use.
type RestartStrategy interface {
	// OnFailure records a failure at now and decides.
	OnFailure(now time.Time) Decision
	// String returns the strategy's configuration, as RestartConfig.String.
	String() string
}

// strategy is one kind's decision rule, wrapped by sticky.
type strategy interface {
	onFailure(now time.Time) Decision
}

// sticky enforces the RestartStrategy contract around a strategy: times
// never go backwards, and giving up is final.
type sticky struct {
	cfg    RestartConfig
	inner  strategy
	last   time.Time
	seen   bool
	gaveUp *Decision
}

func (s *sticky) String() string { return s.cfg.String() }

func (s *sticky) OnFailure(now time.Time) Decision {
	if s.gaveUp != nil {
		return *s.gaveUp
	}
	if s.seen && now.Before(s.last) {
		now = s.last
	}
	s.last, s.seen = now, true
	d := s.inner.onFailure(now)
	if !d.Restart {
		s.gaveUp = &d
	}
	return d
}

// noRestart never restarts (Flink's "none").
type noRestart struct{}

func (noRestart) onFailure(time.Time) Decision {
	return Decision{Reason: "none: restarts are disabled"}
}

// fixedDelay restarts Attempts times, each after Delay (Flink's
// FixedDelayRestartBackoffTimeStrategy).
type fixedDelay struct {
	attempts int
	delay    time.Duration
	failures int
}

func (f *fixedDelay) onFailure(time.Time) Decision {
	f.failures++
	if f.failures > f.attempts {
		return Decision{Reason: fmt.Sprintf("fixed-delay: %d attempts used", f.attempts)}
	}
	return Decision{Restart: true, Delay: f.delay,
		Reason: fmt.Sprintf("fixed-delay: attempt %d of %d", f.failures, f.attempts)}
}

// exponentialDelay restarts after a backoff that starts at Initial and is
// multiplied by Multiplier at each failure, up to Max, with a random jitter
// of up to ±Jitter of it (Flink's ExponentialDelayRestartBackoffTimeStrategy).
// After ResetAfter plus the current backoff without a failure, the backoff
// and the attempt count start over. With Attempts > 0 it gives up at
// failure Attempts+1 since the last reset.
type exponentialDelay struct {
	cfg      RestartConfig
	rng      *rand.Rand // nil: no jitter
	backoff  time.Duration
	last     time.Time
	attempts int // restarts since the last reset; 0 before the first failure
}

func (e *exponentialDelay) onFailure(now time.Time) Decision {
	reset := e.attempts == 0 || now.Sub(e.last) >= e.cfg.ResetAfter+e.backoff
	if reset {
		e.backoff, e.attempts = e.cfg.Initial, 0
	} else if e.backoff < e.cfg.Max {
		e.backoff = min(time.Duration(float64(e.backoff)*e.cfg.Multiplier), e.cfg.Max)
	}
	e.last = now
	e.attempts++
	if e.cfg.Attempts > 0 && e.attempts > e.cfg.Attempts {
		return Decision{Reason: fmt.Sprintf("exponential-delay: %d attempts since the last reset used", e.cfg.Attempts)}
	}
	return Decision{Restart: true, Delay: e.jittered(),
		Reason: fmt.Sprintf("exponential-delay: attempt %d, backoff %v", e.attempts, e.backoff)}
}

// jittered returns the backoff plus a uniform offset in [-j, +j], where j
// is Jitter times the backoff, capped at Max.
func (e *exponentialDelay) jittered() time.Duration {
	offset := int64(float64(e.backoff) * e.cfg.Jitter)
	if e.rng == nil || offset <= 0 {
		return e.backoff
	}
	d := e.backoff + time.Duration(e.rng.Int64N(2*offset+1)-offset)
	return min(d, e.cfg.Max)
}

// failureRate restarts after Delay unless this failure is the
// (MaxFailures+1)th within Interval (Flink's
// FailureRateRestartBackoffTimeStrategy).
type failureRate struct {
	maxFailures int
	interval    time.Duration
	delay       time.Duration
	times       []time.Time // the last maxFailures+1 failures, oldest first
}

func (f *failureRate) onFailure(now time.Time) Decision {
	f.times = append(f.times, now)
	if len(f.times) > f.maxFailures+1 {
		f.times = slices.Delete(f.times, 0, 1)
	}
	if len(f.times) == f.maxFailures+1 && now.Sub(f.times[0]) <= f.interval {
		return Decision{Reason: fmt.Sprintf("failure-rate: %d failures within %v, max %d",
			len(f.times), f.interval, f.maxFailures)}
	}
	n := 0
	for _, at := range f.times {
		if now.Sub(at) <= f.interval {
			n++
		}
	}
	return Decision{Restart: true, Delay: f.delay,
		Reason: fmt.Sprintf("failure-rate: %d of max %d failures within %v", n, f.maxFailures, f.interval)}
}
