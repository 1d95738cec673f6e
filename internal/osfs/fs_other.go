//go:build !linux

package osfs

import (
	iofs "io/fs"
)

// exchange is Linux-only; elsewhere the commit protocol uses two renames.
func exchange(a, b string) error { return ErrUnsupported }

// fileID is unknown off Linux: the commit protocol then tells its staged
// output by where it is, not by identity.
func fileID(iofs.FileInfo) FileID { return FileID{} }

func diskBytes(fi iofs.FileInfo) int64 { return fi.Size() }
