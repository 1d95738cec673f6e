//go:build !unix

package storage

import iofs "io/fs"

// allocatedBytes is fi's size: off Unix the file system's block count is
// not at hand.
func allocatedBytes(fi iofs.FileInfo) int64 { return fi.Size() }
