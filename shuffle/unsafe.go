package shuffle

import "unsafe"

// castWords views b as a slice of W (b's length rounded down).
func castWords[W uint32 | uint64](b []byte) []W {
	var w W
	n := len(b) / int(unsafe.Sizeof(w))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func unsafeSizeof[W uint32 | uint64](w W) uintptr { return unsafe.Sizeof(w) }
