// Package osfstest injects faults into an osfs.FS: it fails the Nth step
// that changes the filesystem (a write, fsync, rename, exchange, remove or
// mkdir) with an I/O error, and can make that failure a crash, after which
// no step reaches the disk, as if the process had been killed there. Tests
// enumerate N over every step of a protocol (Pebble's errorfs does the
// same for its own files).
package osfstest

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"strings"
	"sync"
	"syscall"

	"github.com/batchrun/batchrun/internal/osfs"
)

// ErrInjected is the error of an injected fault: an EIO, so that code
// treats it as any I/O error.
var ErrInjected = fmt.Errorf("injected fault: %w", syscall.EIO)

// ErrCrashed is what every step returns after an injected crash.
var ErrCrashed = errors.New("osfstest: the process crashed earlier (injected)")

// Faulty wraps an osfs.FS. The zero FailAt injects nothing and only counts
// and logs the steps. Safe for concurrent use.
type Faulty struct {
	osfs.FS
	// FailAt is the 1-based index of the mutating step to fail (0: none).
	FailAt int
	// Crash makes every step after the failed one fail with ErrCrashed,
	// reads included: the process is dead from that point.
	Crash bool
	// NoExchange makes Exchange answer osfs.ErrUnsupported (a filesystem
	// without RENAME_EXCHANGE), without counting a step.
	NoExchange bool

	mu      sync.Mutex
	n       int
	crashed bool
	log     []string
	failed  string
}

// Failed returns the step the fault was injected at ("" before it).
func (f *Faulty) Failed() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// Steps returns the mutating steps seen so far, "rename a -> b" and so on.
func (f *Faulty) Steps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// step counts one mutating step and returns the error to inject, if any.
func (f *Faulty) step(op string, paths ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return ErrCrashed
	}
	f.n++
	f.log = append(f.log, op+" "+strings.Join(paths, " -> "))
	if f.n != f.FailAt {
		return nil
	}
	f.failed = f.log[len(f.log)-1]
	if f.Crash {
		f.crashed = true
	}
	return &iofs.PathError{Op: op, Path: paths[0], Err: ErrInjected}
}

// read fails reads after a crash only.
func (f *Faulty) read() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return ErrCrashed
	}
	return nil
}

func (f *Faulty) Lstat(p string) (iofs.FileInfo, error) {
	if err := f.read(); err != nil {
		return nil, err
	}
	return f.FS.Lstat(p)
}

func (f *Faulty) Stat(p string) (iofs.FileInfo, error) {
	if err := f.read(); err != nil {
		return nil, err
	}
	return f.FS.Stat(p)
}

func (f *Faulty) ReadDir(p string) ([]iofs.DirEntry, error) {
	if err := f.read(); err != nil {
		return nil, err
	}
	return f.FS.ReadDir(p)
}

func (f *Faulty) ReadFile(p string) ([]byte, error) {
	if err := f.read(); err != nil {
		return nil, err
	}
	return f.FS.ReadFile(p)
}

func (f *Faulty) MkdirAll(p string, m iofs.FileMode) error {
	if err := f.step("mkdir", p); err != nil {
		return err
	}
	return f.FS.MkdirAll(p, m)
}

func (f *Faulty) WriteFile(p string, data []byte, m iofs.FileMode) error {
	if err := f.step("write", p); err != nil {
		return err
	}
	return f.FS.WriteFile(p, data, m)
}

func (f *Faulty) SyncFile(p string) error {
	if err := f.step("sync", p); err != nil {
		return err
	}
	return f.FS.SyncFile(p)
}

func (f *Faulty) SyncDir(p string) error {
	if err := f.step("syncdir", p); err != nil {
		return err
	}
	return f.FS.SyncDir(p)
}

func (f *Faulty) Rename(o, n string) error {
	if err := f.step("rename", o, n); err != nil {
		return err
	}
	return f.FS.Rename(o, n)
}

func (f *Faulty) Exchange(a, b string) error {
	if f.NoExchange {
		if err := f.read(); err != nil {
			return err
		}
		return osfs.ErrUnsupported
	}
	if err := f.step("exchange", a, b); err != nil {
		return err
	}
	return f.FS.Exchange(a, b)
}

func (f *Faulty) RemoveAll(p string) error {
	if err := f.step("removeall", p); err != nil {
		return err
	}
	return f.FS.RemoveAll(p)
}
