package jobs

import (
	"go.yaml.in/yaml/v4"

	"github.com/batchrun/batchrun/jobs/spec"
)

var readKeys = []string{"path", "schema", "format", "delimiter", "quote", "header", "null_string", "on_error", "quarantine"}

func (d *decoder) decodeRead(s *spec.Step, n *yaml.Node) error {
	f, err := d.fields(n, "read", readKeys...)
	if err != nil {
		return err
	}
	r := &spec.ReadStep{}
	s.Read = r
	if err := d.optStr(f["path"], "read path", &r.Path); err != nil {
		return err
	}
	if r.Format, err = d.format(f["format"], "read format"); err != nil {
		return err
	}
	if r.Delimiter, err = d.oneByte(f["delimiter"], "delimiter"); err != nil {
		return err
	}
	if r.Quote, err = d.oneByte(f["quote"], "quote"); err != nil {
		return err
	}
	if h := f["header"]; h != nil {
		v, err := d.boolValue(h, "header")
		if err != nil {
			return err
		}
		r.Header = &v
	}
	if err := d.optStr(f["null_string"], "null_string", &r.NullString); err != nil {
		return err
	}
	if err := d.optStr(f["quarantine"], "quarantine", &r.Quarantine); err != nil {
		return err
	}
	if o := f["on_error"]; o != nil {
		v, err := d.str(o, "on_error")
		if err != nil {
			return err
		}
		var ok bool
		if r.OnError, ok = spec.ParseOnError(v); !ok {
			return d.errf(o, "on_error: unknown value %q (want fail, skip or quarantine)", v)
		}
	}
	return d.readSchema(r, f["schema"])
}

func (d *decoder) readSchema(r *spec.ReadStep, n *yaml.Node) error {
	var cols []string
	items, err := d.optStrs(n, "schema", &cols)
	if err != nil {
		return err
	}
	for i, c := range cols {
		field, err := parseField(c)
		if err != nil {
			return d.errf(items[i], "schema: %v", err)
		}
		r.Schema = append(r.Schema, field)
	}
	return nil
}

func (d *decoder) decodeWrite(s *spec.Step, n *yaml.Node) error {
	f, err := d.fields(n, "write", "path", "format", "mode", "compression")
	if err != nil {
		return err
	}
	w := &spec.WriteStep{}
	s.Write = w
	if err := d.optStr(f["path"], "write path", &w.Path); err != nil {
		return err
	}
	if w.Format, err = d.format(f["format"], "write format"); err != nil {
		return err
	}
	if m := f["mode"]; m != nil {
		v, err := d.str(m, "write mode")
		if err != nil {
			return err
		}
		var ok bool
		if w.Mode, ok = spec.ParseWriteMode(v); !ok {
			return d.errf(m, "write mode: unknown mode %q (want overwrite, error-if-exists or overwrite-deleting-other-files)", v)
		}
	}
	if c := f["compression"]; c != nil {
		v, err := d.str(c, "compression")
		if err != nil {
			return err
		}
		var ok bool
		if w.Compression, ok = spec.ParseCompression(v); !ok {
			return d.errf(c, "compression: unknown codec %q (want snappy, zstd or none)", v)
		}
	}
	return nil
}

// format decodes an optional format key (absent: FormatAuto).
func (d *decoder) format(n *yaml.Node, what string) (spec.Format, error) {
	if n == nil {
		return spec.FormatAuto, nil
	}
	v, err := d.str(n, what)
	if err != nil {
		return 0, err
	}
	f, ok := spec.ParseFormat(v)
	if !ok {
		return 0, d.errf(n, "%s: unknown format %q (want csv, jsonl or parquet)", what, v)
	}
	return f, nil
}

// oneByte decodes an optional one-byte string ("\t" for a tab).
func (d *decoder) oneByte(n *yaml.Node, what string) (byte, error) {
	if n == nil {
		return 0, nil
	}
	v, err := d.str(n, what)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, d.errf(n, "%s: want a single one-byte character, got %q", what, v)
	}
	return v[0], nil
}
