package recovery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// event is one failure fed to a strategy and the decision it must get.
type event struct {
	at   time.Duration // since t0
	want string        // Decision.String()
}

func restartAfter(d time.Duration, reason string) string {
	return Decision{Restart: true, Delay: d, Reason: reason}.String()
}

func giveUp(reason string) string { return Decision{Reason: reason}.String() }

// checkEvents feeds a fresh strategy of config the events in order.
func checkEvents(t *testing.T, config string, events []event) {
	t.Helper()
	c, err := ParseRestartStrategy(config)
	if err != nil {
		t.Fatalf("ParseRestartStrategy(%q): %v", config, err)
	}
	s, err := c.New(nil)
	if err != nil {
		t.Fatalf("%s: New: %v", config, err)
	}
	for _, ev := range events {
		if got := s.OnFailure(t0.Add(ev.at)).String(); got != ev.want {
			t.Errorf("%s: OnFailure at t=%v = %v, want %v", config, ev.at, got, ev.want)
		}
	}
}

func TestRestartNone(t *testing.T) {
	checkEvents(t, "none", []event{
		{0, giveUp("none: restarts are disabled")},
		{time.Hour, giveUp("none: restarts are disabled")},
	})
}

func TestRestartFixedDelay(t *testing.T) {
	const fixed = "fixed-delay: attempt %d of 3"
	checkEvents(t, "fixed-delay:attempts=3,delay=1s", []event{
		{0, restartAfter(time.Second, fmt.Sprintf(fixed, 1))},
		{time.Minute, restartAfter(time.Second, fmt.Sprintf(fixed, 2))},
		{time.Hour, restartAfter(time.Second, fmt.Sprintf(fixed, 3))},
		{2 * time.Hour, giveUp("fixed-delay: 3 attempts used")},
		// Giving up is final.
		{3 * time.Hour, giveUp("fixed-delay: 3 attempts used")},
	})
}

// Flink's rule: give up at the (max+1)th failure within the interval.
func TestRestartFailureRate(t *testing.T) {
	const config = "failure-rate:max=3,interval=5m,delay=2s"
	rate := func(n int) string {
		return restartAfter(2*time.Second, fmt.Sprintf("failure-rate: %d of max 3 failures within 5m0s", n))
	}
	rateGiveUp := giveUp("failure-rate: 4 failures within 5m0s, max 3")
	checkEvents(t, config, []event{
		{0, rate(1)},
		{time.Minute, rate(2)},
		{2 * time.Minute, rate(3)},
		// 4 failures within 6m: the oldest has left the window.
		{6 * time.Minute, rate(3)},
		{7 * time.Minute, rate(3)},
		{8 * time.Minute, rate(3)},
		// 6m, 7m, 8m, 9m: 4 failures within 3m.
		{9 * time.Minute, rateGiveUp},
		{time.Hour, rateGiveUp},
	})
	// Exactly the interval apart still counts as within it.
	checkEvents(t, config, []event{
		{0, rate(1)},
		{time.Minute, rate(2)},
		{2 * time.Minute, rate(3)},
		{5 * time.Minute, rateGiveUp},
	})
	// A time before the previous one counts as the previous one.
	checkEvents(t, "failure-rate:max=1,interval=1m,delay=0s", []event{
		{5 * time.Minute, restartAfter(0, "failure-rate: 1 of max 1 failures within 1m0s")},
		{time.Minute, giveUp("failure-rate: 2 failures within 1m0s, max 1")},
	})
}

func TestRestartExponentialDelay(t *testing.T) {
	exp := func(attempt int, backoff time.Duration) string {
		return restartAfter(backoff, fmt.Sprintf("exponential-delay: attempt %d, backoff %v", attempt, backoff))
	}
	// Backoff doubles to the max; a quiet period of reset-after plus the
	// current backoff resets it.
	checkEvents(t, "exponential-delay:initial=1s,max=10s,multiplier=2,jitter=0,reset-after=1m", []event{
		{0, exp(1, time.Second)},
		{2 * time.Second, exp(2, 2*time.Second)},
		{5 * time.Second, exp(3, 4*time.Second)},
		{10 * time.Second, exp(4, 8*time.Second)},
		{20 * time.Second, exp(5, 10*time.Second)},
		{30 * time.Second, exp(6, 10*time.Second)},
		// 69s after the last failure: under 1m + 10s, no reset.
		{99 * time.Second, exp(7, 10*time.Second)},
		// 70s after: reset.
		{169 * time.Second, exp(1, time.Second)},
		{170 * time.Second, exp(2, 2*time.Second)},
	})
	// attempts bounds the restarts between resets.
	gaveUp := giveUp("exponential-delay: 2 attempts since the last reset used")
	checkEvents(t, "exponential-delay:initial=1s,max=10s,multiplier=3,jitter=0,reset-after=1m,attempts=2", []event{
		{0, exp(1, time.Second)},
		{time.Second, exp(2, 3*time.Second)},
		{2 * time.Second, gaveUp},
		{time.Hour, gaveUp},
	})
}

// TestExponentialJitter: delays stay within ±jitter of the backoff and
// under max, and the same seed gives the same delays.
func TestExponentialJitter(t *testing.T) {
	c, err := ParseRestartStrategy("exponential-delay:initial=4s,max=20s,multiplier=2,jitter=0.5,reset-after=1h")
	if err != nil {
		t.Fatal(err)
	}
	delays := func(seed uint64) []time.Duration {
		s, err := c.New(rand.New(rand.NewPCG(seed, 0)))
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Duration
		for i := range 6 {
			out = append(out, s.OnFailure(t0.Add(time.Duration(i)*time.Second)).Delay)
		}
		return out
	}
	backoffs := []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 20 * time.Second, 20 * time.Second, 20 * time.Second}
	for seed := range uint64(50) {
		got := delays(seed)
		for i, d := range got {
			lo, hi := backoffs[i]/2, min(backoffs[i]*3/2, 20*time.Second)
			if d < lo || d > hi {
				t.Errorf("seed %d: OnFailure at t=%ds delay = %v, want in [%v, %v]", seed, i, d, lo, hi)
			}
		}
		if again := delays(seed); fmt.Sprint(again) != fmt.Sprint(got) {
			t.Errorf("seed %d: delays %v, then %v", seed, got, again)
		}
	}
}

func TestDecisionErr(t *testing.T) {
	cause := errors.New("scheduler: b[1]: boom")
	if err := (Decision{Restart: true}).Err(cause); err != nil {
		t.Errorf("restart: Err = %v, want nil", err)
	}
	err := Decision{Reason: "fixed-delay: 3 attempts used"}.Err(cause)
	if !errors.Is(err, ErrGiveUp) || !errors.Is(err, cause) {
		t.Errorf("give up: Err = %v, want it to wrap ErrGiveUp and the cause", err)
	}
	const want = "recovery: restart strategy gave up (fixed-delay: 3 attempts used): scheduler: b[1]: boom"
	if err.Error() != want {
		t.Errorf("give up: Err = %q, want %q", err, want)
	}
}

func TestParseRestartStrategy(t *testing.T) {
	tests := []struct {
		in, want string // want: the canonical String, or "error: ..."
	}{
		{"", "fixed-delay:attempts=3,delay=1s"},
		{"none", "none"},
		{"fixed-delay", "fixed-delay:attempts=3,delay=1s"},
		{"fixed-delay:attempts=5,delay=500ms", "fixed-delay:attempts=5,delay=500ms"},
		{" fixed-delay:delay=0s ", "fixed-delay:attempts=3,delay=0s"},
		{"exponential-delay", "exponential-delay:initial=1s,max=1m,multiplier=2,jitter=0.1,reset-after=1h"},
		{"exponential-delay:initial=1s,max=1m,multiplier=2,jitter=0.1,reset-after=1h",
			"exponential-delay:initial=1s,max=1m,multiplier=2,jitter=0.1,reset-after=1h"},
		{"exponential-delay:multiplier=1.5,attempts=10,max=1h30m",
			"exponential-delay:initial=1s,max=1h30m,multiplier=1.5,jitter=0.1,reset-after=1h,attempts=10"},
		{"failure-rate", "failure-rate:max=1,interval=1m,delay=1s"},
		{"failure-rate:max=3,interval=5m,delay=1s", "failure-rate:max=3,interval=5m,delay=1s"},

		{"fixed", `error: recovery: restart strategy "fixed": unknown kind "fixed" (want none, fixed-delay, exponential-delay or failure-rate)`},
		{"default", `error: recovery: restart strategy "default": unknown kind "default" (want none, fixed-delay, exponential-delay or failure-rate)`},
		{"fixed-delay:", `error: recovery: restart strategy "fixed-delay:": option "": want key=value`},
		{"fixed-delay:attempts", `error: recovery: restart strategy "fixed-delay:attempts": option "attempts": want key=value`},
		{"fixed-delay:attempts=x", `error: recovery: restart strategy "fixed-delay:attempts=x": attempts: want an integer, got "x"`},
		{"fixed-delay:attempts=0", `error: recovery: restart strategy "fixed-delay:attempts=0": attempts must be at least 1 (use none for no restarts), got 0`},
		{"fixed-delay:attempts=1,attempts=2", `error: recovery: restart strategy "fixed-delay:attempts=1,attempts=2": option attempts given twice`},
		{"fixed-delay:delay=1", `error: recovery: restart strategy "fixed-delay:delay=1": delay: want a duration like 500ms, 1s or 1m, got "1"`},
		{"fixed-delay:delay=-1s", `error: recovery: restart strategy "fixed-delay:delay=-1s": delay must not be negative, got -1s`},
		{"fixed-delay:max=3", `error: recovery: restart strategy "fixed-delay:max=3": unknown option "max" for fixed-delay (want attempts, delay)`},
		{"none:attempts=1", `error: recovery: restart strategy "none:attempts=1": unknown option "attempts" for none (want no options)`},
		{"exponential-delay:initial=2m", `error: recovery: restart strategy "exponential-delay:initial=2m": max (1m0s) must be at least initial (2m0s)`},
		{"exponential-delay:multiplier=1", `error: recovery: restart strategy "exponential-delay:multiplier=1": multiplier must be greater than 1, got 1`},
		{"exponential-delay:jitter=1.5", `error: recovery: restart strategy "exponential-delay:jitter=1.5": jitter must be between 0 and 1, got 1.5`},
		{"exponential-delay:attempts=-1", `error: recovery: restart strategy "exponential-delay:attempts=-1": attempts must not be negative (0: unlimited), got -1`},
		{"failure-rate:max=0", `error: recovery: restart strategy "failure-rate:max=0": max must be at least 1, got 0`},
		{"failure-rate:interval=0s", `error: recovery: restart strategy "failure-rate:interval=0s": interval must be positive, got 0s`},
	}
	for _, tt := range tests {
		c, err := ParseRestartStrategy(tt.in)
		got := c.String()
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tt.want {
			t.Errorf("ParseRestartStrategy(%q) = %s, want %s", tt.in, got, tt.want)
			continue
		}
		if err != nil {
			continue
		}
		// The canonical form parses back to the same config.
		if again, err := ParseRestartStrategy(got); err != nil || again != c {
			t.Errorf("ParseRestartStrategy(%q) = %+v, %v, want %+v", got, again, err, c)
		}
	}
}

func TestRestartConfigNew(t *testing.T) {
	s, err := RestartConfig{}.New(nil)
	if err != nil || s.String() != "fixed-delay:attempts=3,delay=1s" {
		t.Errorf("RestartConfig{}.New(nil) = %v, %v, want the default fixed-delay:attempts=3,delay=1s", s, err)
	}
	_, err = RestartConfig{Kind: RestartFixedDelay}.New(nil)
	const want = "recovery: restart strategy fixed-delay: attempts must be at least 1 (use none for no restarts), got 0"
	if err == nil || err.Error() != want {
		t.Errorf("RestartConfig{Kind: fixed-delay}.New(nil) error = %v, want %s", err, want)
	}
}

func TestParseFailover(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "region"},
		{"region", "region"},
		{"all", "all"},
		{"individual", "individual"},
		{"Region", `error: recovery: unknown failover strategy "Region" (want region, all or individual)`},
		{"restart-all", `error: recovery: unknown failover strategy "restart-all" (want region, all or individual)`},
	}
	for _, tt := range tests {
		f, err := ParseFailover(tt.in)
		got := f.String()
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tt.want {
			t.Errorf("ParseFailover(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
