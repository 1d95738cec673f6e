package recovery

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// RestartKind names a restart strategy, with Flink's names.
type RestartKind uint8

const (
	// RestartDefault is the zero value: DefaultRestartConfig.
	RestartDefault RestartKind = iota
	// RestartNone never restarts.
	RestartNone
	// RestartFixedDelay restarts up to Attempts times, after Delay each.
	RestartFixedDelay
	// RestartExponentialDelay restarts after an exponentially growing,
	// jittered backoff that resets after a quiet period.
	RestartExponentialDelay
	// RestartFailureRate restarts after Delay unless more than MaxFailures
	// failures fall within Interval.
	RestartFailureRate
)

var restartKindNames = [...]string{"default", "none", "fixed-delay", "exponential-delay", "failure-rate"}

func (k RestartKind) String() string {
	if int(k) < len(restartKindNames) {
		return restartKindNames[k]
	}
	return fmt.Sprintf("restart-kind(%d)", uint8(k))
}

// RestartConfig configures a restart strategy. The zero value is the
// default, DefaultRestartConfig. Once Kind is set, every field the kind
// uses means what it says (a zero Delay is no delay); ParseRestartStrategy
// fills the fields an option string leaves out with the kind's defaults:
//
//	none
//	fixed-delay:       attempts=3, delay=1s
//	exponential-delay: initial=1s, max=1m, multiplier=2, jitter=0.1,
//	                   reset-after=1h, attempts=0 (unlimited)
//	failure-rate:      max=1, interval=1m, delay=1s
//
// These are Flink's defaults except fixed-delay's attempts (Flink: 1) and
// exponential-delay's multiplier (Flink 1.19+: 1.5; earlier: 2).
type RestartConfig struct {
	Kind RestartKind
	// Attempts: fixed-delay: restarts before giving up (>= 1).
	// exponential-delay: restarts between backoff resets (0: unlimited).
	Attempts int
	// Delay before each restart: fixed-delay and failure-rate (>= 0).
	Delay time.Duration
	// Initial and Max backoff: exponential-delay (0 < Initial <= Max).
	Initial, Max time.Duration
	// Multiplier of the backoff at each failure: exponential-delay (> 1).
	Multiplier float64
	// Jitter is the random fraction, in [0, 1], of the backoff added to or
	// taken from it: exponential-delay.
	Jitter float64
	// ResetAfter without a failure (plus the current backoff) resets the
	// backoff and the attempt count: exponential-delay (> 0).
	ResetAfter time.Duration
	// MaxFailures within any Interval: failure-rate (>= 1, > 0).
	MaxFailures int
	Interval    time.Duration
}

// DefaultRestartConfig is the strategy a job gets when none is configured:
// fixed-delay, 3 attempts, 1s apart.
func DefaultRestartConfig() RestartConfig { return kindDefaults(RestartFixedDelay) }

// kindDefaults returns kind's configuration with every option at its
// default.
func kindDefaults(kind RestartKind) RestartConfig {
	switch kind {
	case RestartDefault, RestartFixedDelay:
		return RestartConfig{Kind: RestartFixedDelay, Attempts: 3, Delay: time.Second}
	case RestartExponentialDelay:
		return RestartConfig{Kind: kind, Initial: time.Second, Max: time.Minute, Multiplier: 2,
			Jitter: 0.1, ResetAfter: time.Hour}
	case RestartFailureRate:
		return RestartConfig{Kind: kind, MaxFailures: 1, Interval: time.Minute, Delay: time.Second}
	}
	return RestartConfig{Kind: kind}
}

// ParseRestartStrategy parses "KIND" or "KIND:KEY=VALUE,...", where KIND is
// none, fixed-delay, exponential-delay or failure-rate, and the keys are
//
//	fixed-delay:       attempts, delay
//	exponential-delay: initial, max, multiplier, jitter, reset-after, attempts
//	failure-rate:      max, interval, delay
//
// Durations use Go syntax ("500ms", "1m", "1h30m"). Options left out take
// the kind's defaults (RestartConfig); "" is DefaultRestartConfig. Examples:
// "fixed-delay:attempts=3,delay=1s", "failure-rate:max=3,interval=5m,delay=1s",
// "exponential-delay:initial=1s,max=1m,multiplier=2,jitter=0.1,reset-after=1h".
func ParseRestartStrategy(s string) (RestartConfig, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultRestartConfig(), nil
	}
	name, opts, hasOpts := strings.Cut(s, ":")
	kind := RestartDefault
	for i, n := range restartKindNames[RestartNone:] {
		if name == n {
			kind = RestartNone + RestartKind(i)
		}
	}
	if kind == RestartDefault {
		return RestartConfig{}, fmt.Errorf("recovery: restart strategy %q: unknown kind %q "+
			"(want none, fixed-delay, exponential-delay or failure-rate)", s, name)
	}
	c := kindDefaults(kind)
	if hasOpts {
		if err := c.setOptions(opts); err != nil {
			return RestartConfig{}, fmt.Errorf("recovery: restart strategy %q: %w", s, err)
		}
	}
	if err := c.Validate(); err != nil {
		return RestartConfig{}, fmt.Errorf("recovery: restart strategy %q: %w", s, err)
	}
	return c, nil
}

// setOptions applies "key=value,..." to c.
func (c *RestartConfig) setOptions(opts string) error {
	seen := map[string]bool{}
	for _, opt := range strings.Split(opts, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if !ok || key == "" {
			return fmt.Errorf("option %q: want key=value", opt)
		}
		if seen[key] {
			return fmt.Errorf("option %s given twice", key)
		}
		seen[key] = true
		if err := c.set(key, val); err != nil {
			return err
		}
	}
	return nil
}

// set applies one option; the value's range is checked by Validate.
func (c *RestartConfig) set(key, val string) error {
	var err error
	switch {
	case key == "attempts" && (c.Kind == RestartFixedDelay || c.Kind == RestartExponentialDelay):
		c.Attempts, err = parseInt(key, val)
	case key == "delay" && (c.Kind == RestartFixedDelay || c.Kind == RestartFailureRate):
		c.Delay, err = parseDuration(key, val)
	case key == "initial" && c.Kind == RestartExponentialDelay:
		c.Initial, err = parseDuration(key, val)
	case key == "max" && c.Kind == RestartExponentialDelay:
		c.Max, err = parseDuration(key, val)
	case key == "multiplier" && c.Kind == RestartExponentialDelay:
		c.Multiplier, err = parseFloat(key, val)
	case key == "jitter" && c.Kind == RestartExponentialDelay:
		c.Jitter, err = parseFloat(key, val)
	case key == "reset-after" && c.Kind == RestartExponentialDelay:
		c.ResetAfter, err = parseDuration(key, val)
	case key == "max" && c.Kind == RestartFailureRate:
		c.MaxFailures, err = parseInt(key, val)
	case key == "interval" && c.Kind == RestartFailureRate:
		c.Interval, err = parseDuration(key, val)
	default:
		return fmt.Errorf("unknown option %q for %s (want %s)", key, c.Kind, kindOptions(c.Kind))
	}
	return err
}

func kindOptions(k RestartKind) string {
	switch k {
	case RestartFixedDelay:
		return "attempts, delay"
	case RestartExponentialDelay:
		return "initial, max, multiplier, jitter, reset-after, attempts"
	case RestartFailureRate:
		return "max, interval, delay"
	}
	return "no options"
}

func parseInt(key, val string) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil {
		return 0, fmt.Errorf("%s: want an integer, got %q", key, val)
	}
	return n, nil
}

func parseFloat(key, val string) (float64, error) {
	f, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: want a number, got %q", key, val)
	}
	return f, nil
}

func parseDuration(key, val string) (time.Duration, error) {
	d, err := time.ParseDuration(val)
	if err != nil {
		return 0, fmt.Errorf("%s: want a duration like 500ms, 1s or 1m, got %q", key, val)
	}
	return d, nil
}

// Validate checks the ranges of the options c's kind uses.
func (c RestartConfig) Validate() error {
	switch c.Kind {
	case RestartDefault, RestartNone:
		return nil
	case RestartFixedDelay:
		return firstError(
			check(c.Attempts >= 1, "attempts must be at least 1 (use none for no restarts), got %d", c.Attempts),
			check(c.Delay >= 0, "delay must not be negative, got %v", c.Delay))
	case RestartExponentialDelay:
		return firstError(
			check(c.Initial > 0, "initial must be positive, got %v", c.Initial),
			check(c.Max >= c.Initial, "max (%v) must be at least initial (%v)", c.Max, c.Initial),
			check(c.Multiplier > 1, "multiplier must be greater than 1, got %v", c.Multiplier),
			check(c.Jitter >= 0 && c.Jitter <= 1, "jitter must be between 0 and 1, got %v", c.Jitter),
			check(c.ResetAfter > 0, "reset-after must be positive, got %v", c.ResetAfter),
			check(c.Attempts >= 0, "attempts must not be negative (0: unlimited), got %d", c.Attempts))
	case RestartFailureRate:
		return firstError(
			check(c.MaxFailures >= 1, "max must be at least 1, got %d", c.MaxFailures),
			check(c.Interval > 0, "interval must be positive, got %v", c.Interval),
			check(c.Delay >= 0, "delay must not be negative, got %v", c.Delay))
	}
	return fmt.Errorf("unknown %s", c.Kind)
}

func check(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// String returns the canonical option string, which ParseRestartStrategy
// parses back to c: "fixed-delay:attempts=3,delay=1s". The zero value
// prints as DefaultRestartConfig.
func (c RestartConfig) String() string {
	switch c.Kind {
	case RestartDefault:
		return DefaultRestartConfig().String()
	case RestartFixedDelay:
		return fmt.Sprintf("fixed-delay:attempts=%d,delay=%s", c.Attempts, formatDuration(c.Delay))
	case RestartExponentialDelay:
		s := fmt.Sprintf("exponential-delay:initial=%s,max=%s,multiplier=%s,jitter=%s,reset-after=%s",
			formatDuration(c.Initial), formatDuration(c.Max), formatFloat(c.Multiplier),
			formatFloat(c.Jitter), formatDuration(c.ResetAfter))
		if c.Attempts != 0 {
			s += fmt.Sprintf(",attempts=%d", c.Attempts)
		}
		return s
	case RestartFailureRate:
		return fmt.Sprintf("failure-rate:max=%d,interval=%s,delay=%s",
			c.MaxFailures, formatDuration(c.Interval), formatDuration(c.Delay))
	}
	return c.Kind.String()
}

// formatDuration prints d the way time.Duration does, without zero
// trailing units: "1m", not "1m0s"; "1h", not "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// New validates c and returns a fresh strategy in its initial state. rng
// draws exponential-delay's jitter; with nil, delays carry no jitter.
func (c RestartConfig) New(rng *rand.Rand) (RestartStrategy, error) {
	if c.Kind == RestartDefault {
		c = DefaultRestartConfig()
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("recovery: restart strategy %s: %w", c.Kind, err)
	}
	var inner strategy
	switch c.Kind {
	case RestartNone:
		inner = noRestart{}
	case RestartFixedDelay:
		inner = &fixedDelay{attempts: c.Attempts, delay: c.Delay}
	case RestartExponentialDelay:
		inner = &exponentialDelay{cfg: c, rng: rng}
	case RestartFailureRate:
		inner = &failureRate{maxFailures: c.MaxFailures, interval: c.Interval, delay: c.Delay}
	}
	return &sticky{cfg: c, inner: inner}, nil
}
