//go:build unix

package storage

import (
	iofs "io/fs"
	"syscall"
)

// allocatedBytes is what fi occupies on disk: its allocated 512-byte
// blocks, as du counts them.
func allocatedBytes(fi iofs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
