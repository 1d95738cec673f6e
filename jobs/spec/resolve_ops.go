package spec

import "fmt"

func distinctSchema(d *DistinctStep, in Schema) (Schema, string) {
	seen := map[string]bool{}
	for _, k := range d.Keys {
		if in.Index(k) < 0 {
			return nil, unknownColumn("distinct on", k, in)
		}
		if seen[k] {
			return nil, fmt.Sprintf("duplicate distinct column %q", k)
		}
		seen[k] = true
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
