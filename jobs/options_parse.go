package jobs

import (
	"github.com/batchrun/batchrun/faults"
	"github.com/batchrun/batchrun/recovery"
	"github.com/batchrun/batchrun/shuffle"
)

// The parsers of RunOptions' typed values, for the command line, which
// parses every flag once (and talks to package jobs only).

// ParseCodec parses "s2", "zstd", "lz4" or "none".
func ParseCodec(s string) (shuffle.Codec, error) { return shuffle.ParseCodec(s) }

// ParseFailover parses "region", "all" or "individual" ("" is region).
func ParseFailover(s string) (recovery.Failover, error) { return recovery.ParseFailover(s) }

// ParseRestart parses a restart strategy, such as
// "fixed-delay:attempts=3,delay=1s" or "none".
func ParseRestart(s string) (*recovery.RestartConfig, error) {
	r, err := recovery.ParseRestartStrategy(s)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// ParseFault parses a fault such as "error:agg[2]#0@3" or
// "lose:events[0]->agg" (faults.Parse).
func ParseFault(s string) (faults.Spec, error) { return faults.Parse(s) }
