package shuffle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/zeebo/xxh3"
)

// Partitioner decides which consumers get the rows of each record. A
// partitioner may keep state (rebalance's next channel, random's source),
// so each writer gets its own and uses it from one goroutine.
type Partitioner interface {
	// Route fills r for rec and numConsumers consumers. It must not keep
	// rec.
	Route(rec arrow.Record, numConsumers int, r *Route) error
	String() string
}

// RouteKind is the shape of a routing decision.
type RouteKind uint8

const (
	// RouteOne sends the whole record to Route.Consumer.
	RouteOne RouteKind = iota
	// RouteAll sends the whole record to every consumer.
	RouteAll
	// RouteRows sends row i to consumer Route.Targets[i].
	RouteRows
)

// Route is a partitioner's decision for one record. Targets is reused
// from call to call.
type Route struct {
	Kind     RouteKind
	Consumer int
	Targets  []uint32
}

func (r *Route) targets(n int) []uint32 {
	if cap(r.Targets) < n {
		r.Targets = make([]uint32, n)
	}
	r.Targets = r.Targets[:n]
	return r.Targets
}

type forward struct{ name string }

// Forward sends everything to subpartition 0. A forward edge's partition
// has a single subpartition: producer i's, read by consumer i.
func Forward() Partitioner { return forward{"forward"} }

// Global sends everything to subpartition 0 (the single consumer).
func Global() Partitioner { return forward{"global"} }

func (f forward) Route(_ arrow.Record, _ int, r *Route) error {
	r.Kind, r.Consumer = RouteOne, 0
	return nil
}

func (f forward) String() string { return f.name }

type broadcast struct{}

// Broadcast sends every record, whole, to every consumer (shared, not
// copied: a blocking writer encodes it once).
func Broadcast() Partitioner { return broadcast{} }

func (broadcast) Route(_ arrow.Record, _ int, r *Route) error {
	r.Kind = RouteAll
	return nil
}

func (broadcast) String() string { return "broadcast" }

type rebalance struct {
	seed    uint64
	next    int
	started bool
}

// Rebalance deals whole records round robin, starting at a consumer drawn
// from seed: the scheduler passes a different seed per attempt, so the
// start differs between attempts, as in Flink.
func Rebalance(seed uint64) Partitioner { return &rebalance{seed: seed} }

func (p *rebalance) Route(_ arrow.Record, n int, r *Route) error {
	if !p.started {
		p.started = true
		p.next = rand.New(rand.NewPCG(p.seed, 0x72656261)).IntN(n)
	}
	r.Kind, r.Consumer = RouteOne, p.next%n
	p.next = (p.next + 1) % n
	return nil
}

func (p *rebalance) String() string { return "rebalance" }

type random struct{ rng *rand.Rand }

// Random sends each row to a consumer drawn from rng.
func Random(rng *rand.Rand) Partitioner { return &random{rng: rng} }

func (p *random) Route(rec arrow.Record, n int, r *Route) error {
	r.Kind = RouteRows
	t := r.targets(int(rec.NumRows()))
	for i := range t {
		t[i] = fastRange(p.rng.Uint32(), n)
	}
	return nil
}

func (p *random) String() string { return "random" }

// fastRange maps a uniform 32-bit x to [0, n) without a division.
func fastRange(x uint32, n int) uint32 { return uint32(uint64(x) * uint64(n) >> 32) }

type hashPart struct {
	keys   []string
	schema *arrow.Schema
	cols   []int
	hashes []uint64
}

// Hash routes each row by HashRows of the key columns (by name): rows with
// equal keys go to the same consumer, in every process and every run.
func Hash(keys ...string) Partitioner { return &hashPart{keys: keys} }

func (p *hashPart) Route(rec arrow.Record, n int, r *Route) error {
	if rec.Schema() != p.schema {
		cols, err := keyColumns(rec.Schema(), p.keys)
		if err != nil {
			return err
		}
		p.schema, p.cols = rec.Schema(), cols
	}
	var err error
	if p.hashes, err = HashRows(rec, p.cols, p.hashes); err != nil {
		return err
	}
	r.Kind = RouteRows
	t := r.targets(len(p.hashes))
	for i, h := range p.hashes {
		t[i] = fastRange(uint32(h>>32), n)
	}
	return nil
}

func (p *hashPart) String() string { return "hash(" + strings.Join(p.keys, ",") + ")" }

func keyColumns(s *arrow.Schema, keys []string) ([]int, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("shuffle: hash partitioner without key columns")
	}
	cols := make([]int, len(keys))
	for i, k := range keys {
		idx := s.FieldIndices(k)
		if len(idx) != 1 {
			return nil, fmt.Errorf("shuffle: hash key column %q: %d matches in schema %s", k, len(idx), s)
		}
		cols[i] = idx[0]
	}
	return cols, nil
}

// Hash constants. They are part of the on-disk contract (which consumer a
// row goes to must not change between a run and its resume): never change
// them.
const (
	hashSeed  = 0x9E3779B97F4A7C15
	hashMul   = 0xC2B2AE3D27D4EB4F
	nullHash  = 0x6E756C6C6E756C6C // "nullnull"
	falseHash = 0x2545F4914F6CDD1D
	trueHash  = 0x5851F42D4C957F2D
)

// fmix64 is MurmurHash3's 64-bit finalizer.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	h *= 0xC4CEB9FE1A85EC53
	h ^= h >> 33
	return h
}

func combine(h, x uint64) uint64 { return fmix64(h ^ x*hashMul) }

// HashRows returns a 64-bit hash per row of the columns cols of rec (int64,
// float64, string and bool), reusing out. The hash is a fixed function of
// the values (no per-process seed): an int64 is mixed with MurmurHash3's
// finalizer, a string hashed with XXH3, a float64 by its bits (-0 as 0, one
// NaN), a null as a constant; columns are combined in order.
func HashRows(rec arrow.Record, cols []int, out []uint64) ([]uint64, error) {
	n := int(rec.NumRows())
	if cap(out) < n {
		out = make([]uint64, n)
	}
	out = out[:n]
	for i := range out {
		out[i] = hashSeed
	}
	for _, c := range cols {
		if err := hashColumn(rec.Column(c), out); err != nil {
			return nil, fmt.Errorf("shuffle: hash column %q: %w", rec.ColumnName(c), err)
		}
	}
	return out, nil
}

func hashColumn(col arrow.Array, h []uint64) error {
	switch a := col.(type) {
	case *array.Int64:
		hashInts(a.Int64Values(), a, h)
	case *array.Float64:
		hashFloats(a.Float64Values(), a, h)
	case *array.String:
		for i := range h {
			if a.IsNull(i) {
				h[i] = combine(h[i], nullHash)
			} else {
				h[i] = combine(h[i], xxh3.HashString(a.Value(i)))
			}
		}
	case *array.Boolean:
		for i := range h {
			x := uint64(nullHash)
			if a.IsValid(i) {
				x = falseHash
				if a.Value(i) {
					x = trueHash
				}
			}
			h[i] = combine(h[i], x)
		}
	default:
		return fmt.Errorf("unsupported type %s", col.DataType())
	}
	return nil
}

func hashInts(v []int64, a arrow.Array, h []uint64) {
	v = v[:len(h)]
	if a.NullN() == 0 {
		for i, x := range v {
			h[i] = combine(h[i], uint64(x))
		}
		return
	}
	for i, x := range v {
		if a.IsNull(i) {
			h[i] = combine(h[i], nullHash)
		} else {
			h[i] = combine(h[i], uint64(x))
		}
	}
}

func hashFloats(v []float64, a arrow.Array, h []uint64) {
	v = v[:len(h)]
	for i, x := range v {
		var bits uint64
		switch {
		case a.NullN() > 0 && a.IsNull(i):
			h[i] = combine(h[i], nullHash)
			continue
		case x == 0: // -0 == 0
		case x != x:
			bits = 0x7FF8000000000001
		default:
			bits = math.Float64bits(x)
		}
		h[i] = combine(h[i], bits)
	}
}
