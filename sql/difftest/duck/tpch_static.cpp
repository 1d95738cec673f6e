// Vendored from ../shared/tpch/tools/duckrun (ours): CI runs on a clean clone.
// Registers DuckDB's statically linked (but not auto-registered) tpch
// extension with a database opened through duckdb-go.
//
// duckdb-go-bindings lib/linux-amd64 v0.10506.0 (DuckDB v1.5.6) ships
// libtpch_extension.a and names it in its cgo LDFLAGS, but its generated
// extension loader only wires up autocomplete, core_functions, icu, json and
// parquet, so `LOAD tpch` looks for a file and autoinstall needs the network.
// Here we call the extension's own C++ entry point with an ExtensionLoader
// built by DuckDB's public constructor ExtensionLoader(DatabaseInstance&,
// const string&). Only declarations are written here; the definitions come
// from the static libraries of the pinned module version (see go.mod/go.sum).
//
// ABI assumptions (checked for DuckDB v1.5.6 only; go.sum pins it):
//   duckdb_database handle -> struct DatabaseWrapper { shared_ptr<DuckDB> database; }
//   class DuckDB           -> first member shared_ptr<DatabaseInstance> instance
//   duckdb::shared_ptr     -> wraps std::shared_ptr, whose first word is the object pointer
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

namespace duckdb {
class DatabaseInstance;
class ExtensionLoader {
public:
	ExtensionLoader(DatabaseInstance &db, const std::string &extension_name);
};
} // namespace duckdb

extern "C" void tpch_duckdb_cpp_init(duckdb::ExtensionLoader &loader);

extern "C" int duckrun_load_tpch(void *database_handle, char *err, int errlen) {
	try {
		if (!database_handle) {
			throw std::runtime_error("nil database handle");
		}
		void *duckdb_obj = *static_cast<void **>(database_handle);
		if (!duckdb_obj) {
			throw std::runtime_error("nil DuckDB object");
		}
		auto *instance = *static_cast<duckdb::DatabaseInstance **>(duckdb_obj);
		if (!instance) {
			throw std::runtime_error("nil DatabaseInstance");
		}
		// ExtensionLoader is DatabaseInstance& + 4 strings + a pointer (< 256 bytes);
		// it is constructed in a generous buffer and deliberately never destroyed.
		void *mem = std::aligned_alloc(64, 4096);
		std::memset(mem, 0, 4096);
		auto *loader = new (mem) duckdb::ExtensionLoader(*instance, std::string("tpch"));
		tpch_duckdb_cpp_init(*loader);
		return 0;
	} catch (std::exception &e) {
		std::strncpy(err, e.what(), errlen - 1);
		err[errlen - 1] = 0;
	} catch (...) {
		std::strncpy(err, "unknown C++ exception", errlen - 1);
		err[errlen - 1] = 0;
	}
	return 1;
}
