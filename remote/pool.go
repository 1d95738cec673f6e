package remote

import (
	"errors"
	"sync"

	"github.com/apache/arrow/go/v17/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// pool keeps one Flight client per address; the zero value is ready.
type pool struct {
	mu      sync.Mutex
	clients map[string]flight.Client
}

// get returns the client of addr, dialing it (plain gRPC, no TLS) the
// first time. Dialing does not connect: an unreachable address fails at
// the first call.
func (p *pool) get(addr string) (flight.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[addr]; ok {
		return c, nil
	}
	c, err := flight.NewClientWithMiddleware(addr, nil, nil,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, err
	}
	if p.clients == nil {
		p.clients = make(map[string]flight.Client)
	}
	p.clients[addr] = c
	return c, nil
}

// Close closes every client.
func (p *pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, c := range p.clients {
		errs = append(errs, c.Close())
	}
	p.clients = nil
	return errors.Join(errs...)
}
