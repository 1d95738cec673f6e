package storage

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// damage is what the store learnt of corruption on disk while it ran:
// the key spans of the tables Pebble found corrupt, to be excised (heal),
// and the first corruption a background job met, for Close to report.
type damage struct {
	mu         sync.Mutex
	spans      []span
	background error
}

// listener makes Pebble report corruption to the store instead of ending
// the process. Pebble's default DataCorruption handler calls
// Logger.Fatalf, which must not return: from a read, a compaction or the
// table stats job, a flipped byte would kill the run. With a handler set,
// Pebble returns the corruption as an error of the read (which IsCorrupt,
// so recovery regenerates the partition) or passes it to BackgroundError
// (compactions, table stats), which only records it.
func (d *damage) listener(logger pebble.Logger) *pebble.EventListener {
	return &pebble.EventListener{
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			logger.Errorf("storage: %s", info)
			d.addTable(info)
		},
		BackgroundError: func(err error) {
			logger.Errorf("storage: background error: %s", err)
			if pebble.IsCorruptionError(err) {
				d.mu.Lock()
				if d.background == nil {
					d.background = err
				}
				d.mu.Unlock()
			}
		},
	}
}

// addTable records the key span of a corrupt table. The span ends just
// past the table's largest key whether or not the table's bounds include
// it: excising one key too many costs at most a regenerated partition.
func (d *damage) addTable(info pebble.DataCorruptionInfo) {
	if len(info.Bounds.Start) == 0 && len(info.Bounds.End.Key) == 0 {
		return // a blob file (the store writes none): no bounds to excise
	}
	end := append(slices.Clone(info.Bounds.End.Key), 0)
	d.add(span{Start: slices.Clone(info.Bounds.Start), End: end})
}

func (d *damage) add(spans ...span) {
	d.mu.Lock()
	d.spans = append(d.spans, spans...)
	d.mu.Unlock()
}

// take returns the recorded spans, merged where they overlap, and forgets
// them.
func (d *damage) take() []span {
	d.mu.Lock()
	spans := d.spans
	d.spans = nil
	d.mu.Unlock()
	return mergeSpans(spans)
}

// pending reports whether spans wait to be excised.
func (d *damage) pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.spans) > 0
}

// backgroundErr is the first corruption a background job met, as ours.
func (d *damage) backgroundErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.background == nil {
		return nil
	}
	return CorruptErrorf("a background compaction met damaged data: %s", oneLine(d.background))
}

// mergeSpans sorts spans and merges those that overlap or touch, so that
// each corrupt table lies wholly in one of them: an excise only has to
// open the tables it cuts, never a corrupt one.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(a.Start, b.Start) })
	var out []span
	for _, sp := range spans {
		if n := len(out); n > 0 && bytes.Compare(sp.Start, out[n-1].End) <= 0 {
			if bytes.Compare(sp.End, out[n-1].End) > 0 {
				out[n-1].End = sp.End
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

// healRounds bounds heal: an excise that opens a table it cuts may find
// that one corrupt too, and heal then excises its span in another round.
const healRounds = 4

// heal excises the spans of the tables Pebble reported corrupt. The
// tables leave the store, with whatever else was stored in their spans:
// partitions that then read as not found or corrupt, and are regenerated.
// Without it a corrupt table would fail every later ingestion near it
// (Pebble reads the tables an ingested one overlaps) and every read
// through it, so a lost partition could never be committed again. The
// caller holds commitMu.
func (s *Store) heal() error {
	for range healRounds {
		spans := s.damage.take()
		if len(spans) == 0 {
			return nil
		}
		if err := s.excise(spans); err != nil {
			s.damage.add(spans...)
			if !IsCorrupt(err) {
				return fmt.Errorf("excise corrupt tables: %w", err)
			}
		}
	}
	if s.damage.pending() {
		return CorruptErrorf("corrupt tables remain after %d rounds of excision", healRounds)
	}
	return nil
}

// excise removes every key in spans from the store, in memtables and
// tables alike. Tables wholly inside a span are dropped without being
// read, and their files deleted; tables it cuts become virtual tables
// over the remaining keys.
func (s *Store) excise(spans []span) error {
	for _, sp := range spans {
		if err := s.db.Excise(context.Background(), pebble.KeyRange{Start: sp.Start, End: sp.End}); err != nil {
			return err
		}
	}
	return nil
}
