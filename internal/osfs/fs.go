// Package osfs is the seam between batchrun's durable file operations (the
// output commit protocol, the run log) and the operating system: an FS
// interface with one method per step that can fail on its own (each
// rename, each fsync, each file write), the OS implementation, and the
// file identity the commit protocol recognizes its own output by.
//
// It exists so that tests can fail or "crash" any single step
// (osfs/osfstest), the way Pebble's vfs/errorfs does for its own files.
//
// It must not import any batchrun package.
package osfs

import (
	"errors"
	iofs "io/fs"
	"os"
)

// ErrUnsupported is returned by Exchange when the OS or the filesystem
// cannot swap two paths atomically; callers fall back to two renames.
var ErrUnsupported = errors.New("osfs: atomic exchange not supported")

// FS is the set of file operations the commit protocol and the run log
// use. Every method that changes the filesystem is one step a test can
// fail; none retries.
type FS interface {
	Lstat(path string) (iofs.FileInfo, error)
	Stat(path string) (iofs.FileInfo, error)
	ReadDir(path string) ([]iofs.DirEntry, error)
	ReadFile(path string) ([]byte, error)
	Readlink(path string) (string, error)
	MkdirAll(path string, perm iofs.FileMode) error
	// WriteFile creates or truncates path and writes data; it does not
	// sync (SyncFile does).
	WriteFile(path string, data []byte, perm iofs.FileMode) error
	// SyncFile makes path's contents durable (fsync).
	SyncFile(path string) error
	// SyncDir makes dir's entries durable (fsync of the directory), so a
	// rename or create in it survives a power loss.
	SyncDir(dir string) error
	// Rename renames oldpath to newpath, replacing a file (not a
	// directory) at newpath, as rename(2).
	Rename(oldpath, newpath string) error
	// Exchange atomically swaps a and b, which must both exist (Linux
	// renameat2 RENAME_EXCHANGE). It returns ErrUnsupported where that is
	// not available.
	Exchange(a, b string) error
	RemoveAll(path string) error
}

// Default is the operating system's filesystem.
var Default FS = osFS{}

type osFS struct{}

func (osFS) Lstat(p string) (iofs.FileInfo, error)     { return os.Lstat(p) }
func (osFS) Stat(p string) (iofs.FileInfo, error)      { return os.Stat(p) }
func (osFS) ReadDir(p string) ([]iofs.DirEntry, error) { return os.ReadDir(p) }
func (osFS) ReadFile(p string) ([]byte, error)         { return os.ReadFile(p) }
func (osFS) Readlink(p string) (string, error)         { return os.Readlink(p) }
func (osFS) MkdirAll(p string, m iofs.FileMode) error  { return os.MkdirAll(p, m) }
func (osFS) Rename(o, n string) error                  { return os.Rename(o, n) }
func (osFS) Exchange(a, b string) error                { return exchange(a, b) }
func (osFS) RemoveAll(p string) error                  { return os.RemoveAll(p) }

func (osFS) WriteFile(p string, data []byte, m iofs.FileMode) error {
	return os.WriteFile(p, data, m)
}

func (osFS) SyncFile(p string) error { return syncPath(p) }

func (osFS) SyncDir(dir string) error { return syncPath(dir) }

// syncPath fsyncs the file or directory at p.
func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "sync", Path: p, Err: errors.Unwrap(err)}
	}
	return nil
}

// FileID identifies a file or directory across renames on one filesystem:
// its device and inode. The commit protocol records the ID of what it
// staged and later recognizes it wherever a crash left it.
type FileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// IsZero reports whether id is unknown (a platform without inode numbers).
func (id FileID) IsZero() bool { return id == FileID{} }

// IDOf returns fi's FileID; the zero FileID where the platform has none.
func IDOf(fi iofs.FileInfo) FileID { return fileID(fi) }

// Exists reports whether path exists (without following a final symlink).
// Errors other than "does not exist" are returned.
func Exists(fsys FS, path string) (bool, error) {
	_, err := fsys.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// WriteFileAtomic replaces path with data so that a reader, or a crash at
// any point, sees the old contents or the new, whole: it writes and syncs
// path+".tmp", renames it over path and syncs the directory.
func WriteFileAtomic(fsys FS, path string, data []byte, dir string) error {
	tmp := path + ".tmp"
	if err := fsys.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := fsys.SyncFile(tmp); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// DiskBytes is what fi occupies on disk: its allocated blocks where the
// platform says (as du counts them), else its size.
func DiskBytes(fi iofs.FileInfo) int64 { return diskBytes(fi) }
