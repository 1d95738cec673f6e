package difftest

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/batchrun/batchrun/sql/difftest/duck"
	"github.com/batchrun/batchrun/sql/difftest/querygen"
)

// Table is a table both sides read: DuckDB has it loaded under Name, and
// batchrun reads the CSV file at Path (with a header, ',' between fields)
// as a step of the same name.
type Table struct {
	Name       string
	Path       string
	Columns    []duck.Column // from DuckDB: the spec's schema is mapped from them
	NullString string        // the text of NULL in the file; "" when it has no NULLs
}

// TPCHTables are TPC-H's tables, smallest first.
var TPCHTables = []string{"region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem"}

// GenerateTPCH creates the TPC-H tables at scale factor sf in db with
// DuckDB's dbgen and writes each to dir/<table>.csv (as
// ../shared/tpch/gen.sh does, so the files are the same bytes).
func GenerateTPCH(db *duck.DB, sf, dir string) ([]Table, error) {
	if _, err := strconv.ParseFloat(sf, 64); err != nil {
		return nil, fmt.Errorf("scale factor %q: %w", sf, err)
	}
	if err := db.Exec("CALL dbgen(sf = " + sf + ")"); err != nil {
		return nil, err
	}
	return export(db, TPCHTables, dir, "")
}

// LoadTPCH makes the TPC-H tables in db views over the CSV files of dir
// (written by ../shared/tpch/gen.sh), so that DuckDB reads the files on
// every query as batchrun does. The column types come from dbgen's tables.
func LoadTPCH(db *duck.DB, dir string) ([]Table, error) {
	if err := db.Exec("CALL dbgen(sf = 0)"); err != nil {
		return nil, err
	}
	var tables []Table
	for _, name := range TPCHTables {
		cols, err := db.Describe(name)
		if err != nil {
			return nil, err
		}
		t := Table{Name: name, Path: filepath.Join(dir, name+".csv"), Columns: cols}
		var types []string
		for _, c := range cols {
			types = append(types, fmt.Sprintf("'%s': '%s'", c.Name, c.Type))
		}
		view := fmt.Sprintf("DROP TABLE %s; CREATE VIEW %s AS SELECT * FROM read_csv(%s, header = true, delim = ',', quote = '\"', auto_detect = false, columns = {%s})",
			name, name, sqlString(t.Path), strings.Join(types, ", "))
		if err := db.Exec(view); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// SmallTables creates querygen's tables in db and writes each to
// dir/<table>.csv, NULL written \N (batchrun reads an empty string field
// as the empty string, not NULL).
func SmallTables(db *duck.DB, dir string) ([]Table, error) {
	if err := db.Exec(querygen.SetupSQL); err != nil {
		return nil, err
	}
	var names []string
	for _, t := range querygen.Tables {
		names = append(names, t.Name)
	}
	return export(db, names, dir, `\N`)
}

// export writes each table to dir/<table>.csv with a header, ','
// between fields and nullString for NULL, and describes it.
func export(db *duck.DB, names []string, dir, nullString string) ([]Table, error) {
	var tables []Table
	for _, name := range names {
		t := Table{Name: name, Path: filepath.Join(dir, name+".csv"), NullString: nullString}
		opts := "HEADER, DELIMITER ','"
		if nullString != "" {
			opts += ", NULLSTR " + sqlString(nullString)
		}
		if err := db.Exec(fmt.Sprintf("COPY %s TO %s (%s)", name, sqlString(t.Path), opts)); err != nil {
			return nil, err
		}
		var err error
		if t.Columns, err = db.Describe(name); err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}

func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
