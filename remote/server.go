package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/batchrun/batchrun/shuffle"
	"github.com/batchrun/batchrun/storage"
)

// Ticket names one subpartition of a blocking partition of a run, and the
// schema of its rows (flight.SerializeSchema), which the holder needs to
// decode what it stored.
type Ticket struct {
	Run      uint64 `json:"run"`
	Edge     uint32 `json:"edge"`
	Producer uint32 `json:"producer"`
	Sub      int    `json:"sub"`
	Schema   []byte `json:"schema"`
}

func (t Ticket) ref() storage.PartitionRef {
	return storage.PartitionRef{Run: t.Run, Edge: t.Edge, Producer: t.Producer}
}

// Server serves the partitions of the runs whose stores it was given.
type Server struct {
	flight.BaseFlightServer
	opts shuffle.Options
	// Metrics, when set, count the reads served.
	Metrics *WorkerMetrics

	mu     sync.Mutex
	stores map[uint64]*storage.Store
}

// NewServer returns a server with no runs; opts decode stored batches.
func NewServer(opts shuffle.Options) *Server {
	opts.EnsureDefaults()
	return &Server{opts: opts, stores: make(map[uint64]*storage.Store)}
}

// Add serves run's partitions from store until Remove.
func (s *Server) Add(run uint64, store *storage.Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stores[run] = store
}

// Remove stops serving run; readers already streaming finish first only
// if the store stays open.
func (s *Server) Remove(run uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.stores, run)
}

func (s *Server) store(run uint64) *storage.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stores[run]
}

// DoGet streams one subpartition as Arrow record batches. A partition that
// is not there (never committed, deleted, or of a run this server does
// not hold) is codes.NotFound; one whose bytes fail their checksum is
// codes.DataLoss.
func (s *Server) DoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) (err error) {
	var rows, bytes int64
	defer func() { s.Metrics.served(rows, bytes, err) }()
	var t Ticket
	if err := json.Unmarshal(tkt.GetTicket(), &t); err != nil {
		return status.Errorf(codes.InvalidArgument, "remote: bad ticket: %v", err)
	}
	schema, err := flight.DeserializeSchema(t.Schema, memory.DefaultAllocator)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "remote: bad ticket schema: %v", err)
	}
	store := s.store(t.Run)
	if store == nil {
		return status.Errorf(codes.NotFound, "remote: run %d is not held here", t.Run)
	}
	r := shuffle.NewBlockingReader(store, []storage.PartitionRef{t.ref()}, t.Sub, schema, s.opts)
	defer r.Close()
	w := flight.NewRecordWriter(stream, ipc.WithSchema(schema))
	defer w.Close()
	for {
		rec, err := r.Next(stream.Context())
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readStatus(err)
		}
		rows += rec.NumRows()
		bytes += shuffle.ArrowBytes(rec) // in memory, before the wire
		err = w.Write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
}

// readStatus maps a store read error to the status a reader branches on.
func readStatus(err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return status.Error(codes.NotFound, err.Error())
	case storage.IsCorrupt(err):
		return status.Error(codes.DataLoss, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// Listener is a Flight service being served.
type Listener struct {
	gs  *grpc.Server
	lis net.Listener
}

// Listen serves s (a *Server, or a *Worker) on addr ("host:port"; port 0
// picks one) in the background.
func Listen(addr string, s flight.FlightServer) (*Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("remote: listen on %s: %w", addr, err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	flight.RegisterFlightServiceServer(gs, s)
	go func() { _ = gs.Serve(lis) }()
	return &Listener{gs: gs, lis: lis}, nil
}

// Addr is the address it listens on.
func (l *Listener) Addr() net.Addr { return l.lis.Addr() }

// Shutdown stops accepting calls and waits for those in flight.
func (l *Listener) Shutdown() { l.gs.GracefulStop() }

// Stop drops every connection at once, the way a crash looks to clients.
func (l *Listener) Stop() { l.gs.Stop() }
