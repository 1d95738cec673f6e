package duck

/*
#include <stdlib.h>
int duckrun_load_tpch(void *database_handle, char *err, int errlen);
*/
import "C"

import (
	"errors"
	"reflect"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// loadTPCH registers the tpch extension (dbgen, tpch_queries, tpch_answers)
// with the database behind connector. See tpch_static.cpp.
func loadTPCH(connector *duckdb.Connector) error {
	// Connector.db is a mapping.Database{Ptr unsafe.Pointer}: the C API handle.
	f := reflect.ValueOf(connector).Elem().FieldByName("db")
	if !f.IsValid() {
		return errors.New("duckdb-go Connector has no field db (unexpected driver version)")
	}
	p := f.FieldByName("Ptr")
	if !p.IsValid() || p.Kind() != reflect.UnsafePointer {
		return errors.New("duckdb-go Connector.db has no Ptr (unexpected driver version)")
	}
	handle := p.UnsafePointer()
	const errLen = 1024
	cbuf := (*C.char)(C.malloc(errLen))
	defer C.free(unsafe.Pointer(cbuf))
	if C.duckrun_load_tpch(handle, cbuf, errLen) != 0 {
		return errors.New("loading tpch: " + C.GoString(cbuf))
	}
	return nil
}
