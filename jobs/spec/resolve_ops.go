package spec

import "fmt"

func distinctSchema(d *DistinctStep, in Schema) (Schema, string) {
	if msg := checkColumns(d.Keys, in, "distinct on", "duplicate distinct column %q"); msg != "" {
		return nil, msg
	}
	return in, ""
}

func explodeSchema(e *ExplodeStep, in Schema) (Schema, string) {
	i := in.Index(e.Column)
	switch {
	case e.Column == "":
		return nil, "explode has no column"
	case i < 0:
		return nil, unknownColumn("explode column", e.Column, in)
	case in[i].Type != String:
		return nil, fmt.Sprintf("explode column %q has type %s, want string", e.Column, in[i].Type)
	case e.Split == "":
		return nil, "explode split separator is empty"
	}
	out := append(Schema{}, in...)
	if e.As != "" && e.As != e.Column {
		if in.Index(e.As) >= 0 {
			return nil, fmt.Sprintf("explode as %q: the input already has that column", e.As)
		}
		out[i].Name = e.As
	}
	return out, ""
}
