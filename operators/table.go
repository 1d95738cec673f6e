package operators

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/batchrun/batchrun/jobs/spec"
	"github.com/batchrun/batchrun/operators/arrowx"
)

// groupTable maps key tuples to dense group ids, assigned in first-seen
// order. It is an open-addressing table with linear probing. For 8-byte
// keys a slot holds the key and the group id + 1 (0 = empty), so a probe
// touches one cache line; for byte keys a slot holds the hash's high 32
// bits (a tag) and the group id + 1, so a mismatch rarely touches the keys.
// Keys live in typed group-indexed slices: fixed (8-byte words) or one byte
// arena with offsets, never one allocation per group.
type groupTable struct {
	kind     keyKind
	codec    keyCodec
	slots    []uint64    // byte keys
	fslots   []fixedSlot // 8-byte keys
	mask     uint64
	hashes   []uint64 // per group, to grow without rehashing keys
	fixed    []uint64 // keysFixed
	arena    []byte   // keysString, keysRow: group g is arena[starts[g]:starts[g+1]]
	starts   []int
	nullGrp  int32 // group of the null key (keysFixed, keysString), -1 if none
	nullsHit bool  // null keys form a group (aggregate) or never match (join)
}

// newGroupTable returns an empty table. nullGroup says whether null keys
// form one group (GROUP BY) or get group -1 and never match (joins).
func newGroupTable(codec keyCodec, nullGroup bool) *groupTable {
	t := &groupTable{kind: codec.kind, codec: codec, nullGrp: -1, nullsHit: nullGroup}
	t.allocSlots(1024)
	t.starts = []int{0}
	return t
}

// fixedSlot is a slot of an 8-byte key table.
type fixedSlot struct {
	key uint64
	g   uint64 // group id + 1; 0 = empty
}

func (t *groupTable) allocSlots(n int) {
	if t.kind == keysFixed {
		t.fslots = make([]fixedSlot, n)
	} else {
		t.slots = make([]uint64, n)
	}
	t.mask = uint64(n - 1)
}

// len is the number of groups.
func (t *groupTable) len() int { return len(t.hashes) }

// bytes estimates the memory the table holds: slots, per-group hashes and
// keys.
func (t *groupTable) bytes() int64 {
	return sliceBytes(t.slots, 8) + sliceBytes(t.fslots, 16) + sliceBytes(t.hashes, 8) +
		sliceBytes(t.fixed, 8) + sliceBytes(t.arena, 1) + sliceBytes(t.starts, 8)
}

// nullGroup returns the group id of null keys, creating it.
func (t *groupTable) nullGroup() int32 {
	if t.nullGrp < 0 {
		t.nullGrp = int32(len(t.hashes))
		t.hashes = append(t.hashes, 0)
		switch t.kind {
		case keysFixed:
			t.fixed = append(t.fixed, 0)
		default:
			t.starts = append(t.starts, len(t.arena))
		}
	}
	return t.nullGrp
}

// insert sets gids[i] to the group of row i of k, adding new groups.
func (t *groupTable) insert(k *batchKeys, gids []int32) {
	t.lookup(k, gids, true)
}

// find sets gids[i] to the group of row i of k, or -1 when absent or null.
func (t *groupTable) find(k *batchKeys, gids []int32) {
	t.lookup(k, gids, false)
}

func (t *groupTable) lookup(k *batchKeys, gids []int32, add bool) {
	nullRows := k.null
	if t.kind == keysRow && t.nullsHit {
		nullRows = nil // nulls are part of the encoded key
	}
	for i := 0; i < k.n; i++ {
		if nullRows != nil && nullRows[i] {
			gids[i] = -1
			if t.nullsHit && (add || t.nullGrp >= 0) {
				gids[i] = t.nullGroup()
			}
			continue
		}
		if add && 2*uint64(len(t.hashes)) >= t.mask {
			t.grow()
		}
		if t.kind == keysFixed {
			gids[i] = t.lookupFixed(k.hash[i], k.fixed[i], add)
		} else {
			gids[i] = t.lookupBytes(k.hash[i], k.key(i), add)
		}
	}
}

func (t *groupTable) lookupFixed(h, key uint64, add bool) int32 {
	slots, mask := t.fslots, t.mask
	for s := h & mask; ; s = (s + 1) & mask {
		sl := &slots[s]
		if sl.g == 0 {
			if !add {
				return -1
			}
			g := int32(len(t.hashes))
			t.hashes = append(t.hashes, h)
			t.fixed = append(t.fixed, key)
			sl.key, sl.g = key, uint64(g+1)
			return g
		}
		if sl.key == key {
			return int32(sl.g - 1)
		}
	}
}

func (t *groupTable) lookupBytes(h uint64, key []byte, add bool) int32 {
	tag := h >> 32
	for s := h & t.mask; ; s = (s + 1) & t.mask {
		e := t.slots[s]
		if e == 0 {
			if !add {
				return -1
			}
			g := int32(len(t.hashes))
			t.hashes = append(t.hashes, h)
			t.arena = append(t.arena, key...)
			t.starts = append(t.starts, len(t.arena))
			t.slots[s] = tag<<32 | uint64(g+1)
			return g
		}
		if e>>32 == tag {
			g := uint32(e) - 1
			if bytes.Equal(t.arena[t.starts[g]:t.starts[g+1]], key) {
				return int32(g)
			}
		}
	}
}

// grow doubles the slot array and reinserts every group by its hash.
func (t *groupTable) grow() {
	t.allocSlots(2 * int(t.mask+1))
	for g, h := range t.hashes {
		if int32(g) == t.nullGrp {
			continue
		}
		s := h & t.mask
		if t.kind == keysFixed {
			for t.fslots[s].g != 0 {
				s = (s + 1) & t.mask
			}
			t.fslots[s] = fixedSlot{key: t.fixed[g], g: uint64(g + 1)}
			continue
		}
		for t.slots[s] != 0 {
			s = (s + 1) & t.mask
		}
		t.slots[s] = (h>>32)<<32 | uint64(g+1)
	}
}

// keyArrays returns the key columns of groups [from, to).
func (t *groupTable) keyArrays(from, to int, mem memory.Allocator) []arrow.Array {
	types := t.codec.types
	out := make([]arrow.Array, len(types))
	switch t.kind {
	case keysFixed:
		out[0] = t.fixedArray(types[0], from, to, mem)
	case keysString:
		b := arrowx.NewColBuilder(spec.String, mem)
		b.Reset(to - from)
		for g := from; g < to; g++ {
			if int32(g) == t.nullGrp {
				b.AppendNull()
				continue
			}
			b.AppendBytes(t.arena[t.starts[g]:t.starts[g+1]])
		}
		out[0] = b.Finish()
	default:
		pos := make([]int, to-from)
		copy(pos, t.starts[from:to])
		for c, typ := range types {
			out[c] = decodeColumn(typ, t.arena, pos, mem)
		}
	}
	return out
}

func (t *groupTable) fixedArray(typ spec.Type, from, to int, mem memory.Allocator) arrow.Array {
	b := arrowx.NewColBuilder(typ, mem)
	b.Reset(to - from)
	for g := from; g < to; g++ {
		switch {
		case int32(g) == t.nullGrp:
			b.AppendNull()
		case typ == spec.Int64:
			b.I64[b.N] = int64(t.fixed[g])
			b.N++
		default:
			b.F64[b.N] = math.Float64frombits(t.fixed[g])
			b.N++
		}
	}
	return b.Finish()
}

// decodeColumn decodes one column of keysRow-encoded keys; pos[i] is the
// cursor of row i and moves past the column.
func decodeColumn(typ spec.Type, arena []byte, pos []int, mem memory.Allocator) arrow.Array {
	b := arrowx.NewColBuilder(typ, mem)
	b.Reset(len(pos))
	for i, p := range pos {
		if arena[p] == 0 {
			b.AppendNull()
			pos[i] = p + 1
			continue
		}
		p++
		switch typ {
		case spec.Int64:
			b.I64[b.N] = int64(binary.LittleEndian.Uint64(arena[p:]))
			b.N++
			p += 8
		case spec.Float64:
			b.F64[b.N] = math.Float64frombits(binary.LittleEndian.Uint64(arena[p:]))
			b.N++
			p += 8
		case spec.Bool:
			b.AppendBool(arena[p] == 1)
			p++
		case spec.String:
			l := int(binary.LittleEndian.Uint32(arena[p:]))
			b.AppendBytes(arena[p+4 : p+4+l])
			p += 4 + l
		}
		pos[i] = p
	}
	return b.Finish()
}
