package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/batchrun/batchrun/executor"
	"github.com/batchrun/batchrun/plan"
	"github.com/batchrun/batchrun/shuffle"
)

// Partitions reads a task's blocking inputs wherever they are: those
// located at Self (or with no location) from Local, the others from the
// process at their location. It writes to Local: a process writes only
// its own store.
type Partitions struct {
	Local executor.Partitions
	// Self is this process's address as locations name it.
	Self string
	Run  uint64

	clients pool
}

var _ executor.Partitions = (*Partitions)(nil)

// Writer implements executor.Partitions.
func (p *Partitions) Writer(id plan.PartitionID, attempt uint32, subpartitions int, part shuffle.Partitioner) shuffle.Writer {
	return p.Local.Writer(id, attempt, subpartitions, part)
}

// Reader implements executor.Partitions: it reads the partitions in order,
// each from where it is, one stream open at a time.
func (p *Partitions) Reader(c plan.SubtaskID, in executor.Input, schema *arrow.Schema) (shuffle.Reader, error) {
	var wireSchema []byte // serialized once, for the remote ones
	parts := make([]func() (shuffle.Reader, error), len(in.Partitions))
	for i, pid := range in.Partitions {
		loc := ""
		if i < len(in.Locations) {
			loc = in.Locations[i]
		}
		if loc == "" || loc == p.Self {
			one := executor.Input{Edge: in.Edge, Mode: in.Mode, Partitions: []plan.PartitionID{pid}, Subpartition: in.Subpartition}
			parts[i] = func() (shuffle.Reader, error) { return p.Local.Reader(c, one, schema) }
			continue
		}
		if wireSchema == nil {
			wireSchema = flight.SerializeSchema(schema, memory.DefaultAllocator)
		}
		ticket := Ticket{Run: p.Run, Edge: uint32(pid.Edge), Producer: uint32(pid.Producer), Sub: in.Subpartition, Schema: wireSchema}
		parts[i] = func() (shuffle.Reader, error) {
			return &flightReader{p: p, addr: loc, part: pid, schema: schema, ticket: ticket}, nil
		}
	}
	return &chain{parts: parts}, nil
}

// Lost implements executor.Partitions: a remote partition is lost when its
// holder says it does not have it (or its bytes are damaged), or cannot be
// reached; a local one as Local says.
func (p *Partitions) Lost(err error) (plan.PartitionID, bool) {
	var fe *FetchError
	if errors.As(err, &fe) {
		switch status.Code(fe.Err) {
		case codes.NotFound, codes.DataLoss, codes.Unavailable:
			return fe.Partition, true
		}
		return plan.PartitionID{}, false
	}
	return p.Local.Lost(err)
}

// Close closes its clients.
func (p *Partitions) Close() error { return p.clients.Close() }

// FetchError is a failed read of a partition another process holds.
type FetchError struct {
	Partition plan.PartitionID
	Addr      string
	Err       error // a gRPC status error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("remote: fetch %s from %s: %v", e.Partition, e.Addr, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// chain reads its parts in order, opening each when the one before ends.
type chain struct {
	parts []func() (shuffle.Reader, error)
	cur   shuffle.Reader
	read  bool // Next was called
}

func (c *chain) Next(ctx context.Context) (arrow.Record, error) {
	c.read = true
	for {
		if c.cur == nil {
			if len(c.parts) == 0 {
				return nil, io.EOF
			}
			r, err := c.parts[0]()
			if err != nil {
				return nil, err
			}
			c.cur, c.parts = r, c.parts[1:]
		}
		rec, err := c.cur.Next(ctx)
		if errors.Is(err, io.EOF) {
			c.cur.Close()
			c.cur = nil
			continue
		}
		return rec, err
	}
}

func (c *chain) Close() {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
	c.parts = nil
}

// Producers implements shuffle.ProducerSplitter: each part, opened at its
// first Next.
func (c *chain) Producers() []shuffle.Reader {
	if c.read {
		return nil
	}
	rs := make([]shuffle.Reader, len(c.parts))
	for i, open := range c.parts {
		rs[i] = &chain{parts: []func() (shuffle.Reader, error){open}}
	}
	return rs
}

// flightReader streams one remote subpartition, opened at the first Next.
type flightReader struct {
	p      *Partitions
	addr   string
	part   plan.PartitionID
	schema *arrow.Schema
	ticket Ticket

	cancel context.CancelFunc
	rd     *flight.Reader
}

func (r *flightReader) fail(err error) error {
	return &FetchError{Partition: r.part, Addr: r.addr, Err: err}
}

func (r *flightReader) open(ctx context.Context) error {
	c, err := r.p.clients.get(r.addr)
	if err != nil {
		return r.fail(status.Error(codes.Unavailable, err.Error()))
	}
	data, err := json.Marshal(r.ticket)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	stream, err := c.DoGet(sctx, &flight.Ticket{Ticket: data})
	if err != nil {
		cancel()
		return r.fail(err)
	}
	rd, err := flight.NewRecordReader(stream)
	if err != nil {
		cancel()
		return r.fail(err)
	}
	if !rd.Schema().Equal(r.schema) {
		rd.Release()
		cancel()
		return fmt.Errorf("remote: %s from %s: schema %s, want %s", r.part, r.addr, rd.Schema(), r.schema)
	}
	r.cancel, r.rd = cancel, rd
	return nil
}

func (r *flightReader) Next(ctx context.Context) (arrow.Record, error) {
	if r.rd == nil {
		if err := r.open(ctx); err != nil {
			return nil, err
		}
	}
	if r.rd.Next() {
		rec := r.rd.Record()
		rec.Retain() // the caller owns it; the reader releases its own at the next call
		return rec, nil
	}
	if err := r.rd.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, r.fail(err)
	}
	return nil, io.EOF
}

func (r *flightReader) Close() {
	if r.rd != nil {
		r.rd.Release()
		r.rd = nil
	}
	if r.cancel != nil {
		r.cancel()
	}
}
