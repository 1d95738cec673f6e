package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// thirdParty says which non-standard packages outside the module a package
// may import.
type thirdParty int

const (
	anyThirdParty thirdParty = iota
	noThirdParty
	arrowOnly // arrow's packages, and packages of the modules arrow links
)

// importRule is what pkg (module-relative, like "jobs/spec") and its
// subpackages without a rule of their own may import directly. Imports
// inside pkg's own subtree are always allowed.
type importRule struct {
	pkg   string
	allow []string // batchrun packages (module-relative) it may import
	third thirdParty
	why   string // printed when the rule is broken
}

// importRules are STYLE.md rule 2 as adjusted for this module. Package jobs
// and cmd/batchrun-gen have no rule beyond the global one (noImporting).
var importRules = []importRule{
	{pkg: "jobs/spec", third: anyThirdParty,
		why: "jobs/spec is the leaf: it imports no batchrun package"},
	{pkg: "plan", allow: []string{"jobs/spec"}, third: noThirdParty,
		why: "plan imports only jobs/spec and the standard library"},
	{pkg: "recovery", allow: []string{"jobs/spec"}, third: noThirdParty,
		why: "recovery imports only jobs/spec and the standard library"},
	{pkg: "operators", allow: []string{"jobs/spec"}, third: arrowOnly,
		why: "operators imports only jobs/spec, arrow (and the modules arrow uses) and the standard library"},
	{pkg: "storage", third: anyThirdParty,
		why: "storage imports no batchrun package"},
	{pkg: "shuffle", allow: []string{"storage", "jobs/spec"}, third: anyThirdParty,
		why: "shuffle imports only storage and jobs/spec among batchrun packages"},
	{pkg: "scheduler", allow: []string{"plan", "recovery", "executor"}, third: noThirdParty,
		why: "scheduler imports only plan, recovery, executor and the standard library: it decides, it runs nothing itself"},
	{pkg: "executor", allow: []string{"plan", "shuffle", "storage"}, third: anyThirdParty,
		why: "executor imports only plan, shuffle and storage among batchrun packages: what a stage computes is the Program's"},
	{pkg: "physical", allow: []string{"jobs/spec", "plan", "operators", "operators/expr", "operators/formats", "operators/arrowx", "shuffle", "storage", "executor"}, third: anyThirdParty,
		why: "physical imports only jobs/spec, plan, operators (and its subpackages), shuffle, storage and executor among batchrun packages"},
	{pkg: "remote", allow: []string{"plan", "executor", "shuffle", "storage"}, third: anyThirdParty,
		why: "remote imports only plan, executor, shuffle and storage among batchrun packages"},
	{pkg: "executor/executortest", allow: []string{"executor", "plan", "plan/plantest", "shuffle", "storage"}, third: anyThirdParty,
		why: "executor/executortest is test support: it imports only executor, plan, plan/plantest, shuffle and storage"},
	{pkg: "cluster", allow: []string{"remote"}, third: anyThirdParty,
		why: "cluster imports only remote among batchrun packages: it keeps membership and the run log's keys, it runs nothing"},
	{pkg: "coordinator", allow: []string{"cluster", "jobs", "jobs/statedir", "ui"}, third: anyThirdParty,
		why: "coordinator imports only cluster, jobs, jobs/statedir and ui among batchrun packages: it leads and submits; jobs runs"},
	{pkg: "faults", allow: []string{"plan", "executor", "shuffle", "storage"}, third: anyThirdParty,
		why: "faults imports only plan, executor, shuffle and storage among batchrun packages"},
	{pkg: "internal/osfs", third: anyThirdParty,
		why: "internal/osfs imports no batchrun package"},
	{pkg: "internal/osfs/osfstest", allow: []string{"internal/osfs"}, third: noThirdParty,
		why: "internal/osfs/osfstest imports only internal/osfs"},
	{pkg: "internal/lockfile", third: anyThirdParty,
		why: "internal/lockfile imports no batchrun package"},
	{pkg: "jobs/commit", allow: []string{"internal/osfs"}, third: noThirdParty,
		why: "jobs/commit imports only internal/osfs and the standard library"},
	{pkg: "jobs/statedir", allow: []string{"internal/osfs", "internal/lockfile", "jobs/commit"}, third: noThirdParty,
		why: "jobs/statedir imports only internal/osfs, internal/lockfile, jobs/commit and the standard library"},
	{pkg: "cmd/batchrun", allow: []string{"internal/cli"}, third: noThirdParty,
		why: "cmd/batchrun is only a main: it imports internal/cli"},
	{pkg: "internal/cli", allow: []string{"jobs", "jobs/spec", "coordinator", "ui"}, third: anyThirdParty,
		why: "internal/cli imports only jobs, jobs/spec, coordinator and ui among batchrun packages"},
	{pkg: "sql", allow: []string{"jobs/spec"}, third: noThirdParty,
		why: "sql imports only jobs/spec and its own subpackages: it compiles queries to steps, it reads and runs nothing"},
	{pkg: "sql/logical", allow: []string{"jobs/spec"}, third: noThirdParty,
		why: "sql/logical imports only jobs/spec: a plan's nodes are steps' settings"},
	{pkg: "sql/bind", allow: []string{"jobs/spec", "sql/logical", "sql/parser"}, third: noThirdParty,
		why: "sql/bind imports only jobs/spec, sql/logical and sql/parser"},
	{pkg: "sql/parser", third: noThirdParty,
		why: "sql/parser imports no batchrun package and nothing outside the standard library: SQL text -> AST is hand-written"},
	{pkg: "ui", allow: []string{"jobs", "jobs/statedir"}, third: noThirdParty,
		why: "ui imports only jobs, jobs/statedir and the standard library: it shows the run history, it runs nothing"},
}

// noImporting is the rule every package follows: integration and the
// commands are roots that nothing outside their own tree imports.
const noImporting = "nothing imports integration or cmd/..."

// listedPackage is the part of `go list -json` output the rules need.
type listedPackage struct {
	ImportPath string
	Standard   bool
	DepOnly    bool
	Module     *struct {
		Path string
		Main bool
	}
	Imports []string // direct imports of non-test files
	Deps    []string
}

// graph is the module's packages and everything they link.
type graph struct {
	module string                    // the main module's path
	pkgs   []*listedPackage          // the module's packages, in go list order
	byPath map[string]*listedPackage // every listed package, deps included
}

// TestForbiddenImports lists the module with `go list -deps -json ./...`
// and checks every direct import of a non-test file against importRules.
func TestForbiddenImports(t *testing.T) {
	g := listModule(t)
	for _, r := range importRules {
		if g.byPath[g.module+"/"+r.pkg] == nil {
			t.Errorf("rule for %s: no such package in %s (stale rule?)", r.pkg, g.module)
		}
	}
	for _, v := range g.violations(importRules) {
		t.Error(v)
	}
}

// TestViolationsCatchesForbiddenEdges feeds the checker a module that
// breaks each kind of rule, so that TestForbiddenImports cannot pass by
// checking nothing.
func TestViolationsCatchesForbiddenEdges(t *testing.T) {
	const mod = "example.com/br"
	const arrow = "github.com/apache/arrow/go/v17"
	g := &graph{module: mod, byPath: map[string]*listedPackage{}}
	add := func(path, module string, deps []string, imports ...string) {
		p := &listedPackage{ImportPath: path, Imports: imports, Deps: deps}
		switch module {
		case "":
			p.Standard = true
		case mod:
			p.Module = &struct {
				Path string
				Main bool
			}{mod, true}
			g.pkgs = append(g.pkgs, p)
		default:
			p.Module = &struct {
				Path string
				Main bool
			}{module, false}
		}
		g.byPath[path] = p
	}
	add("fmt", "", nil)
	add(arrow+"/arrow", arrow, []string{"fmt", "github.com/goccy/go-json"})
	add(arrow+"/arrow/array", arrow, []string{"fmt"})
	add("github.com/goccy/go-json", "github.com/goccy/go-json", nil)
	add("github.com/cockroachdb/pebble/v2", "github.com/cockroachdb/pebble/v2", nil)
	add(mod+"/jobs/spec", mod, nil, "fmt")
	add(mod+"/jobs", mod, nil, mod+"/jobs/spec", mod+"/plan", mod+"/scheduler")
	add(mod+"/plan", mod, nil, "fmt", mod+"/jobs/spec", arrow+"/arrow", mod+"/plan/internal/order")
	add(mod+"/plan/internal/order", mod, nil, mod+"/recovery")
	add(mod+"/recovery", mod, nil, "fmt")
	add(mod+"/operators", mod, nil, mod+"/jobs/spec", arrow+"/arrow/array", "github.com/goccy/go-json",
		"github.com/cockroachdb/pebble/v2", mod+"/jobs")
	add(mod+"/storage", mod, nil, "github.com/cockroachdb/pebble/v2", mod+"/integration")
	add(mod+"/shuffle", mod, nil, mod+"/storage", mod+"/plan")
	add(mod+"/scheduler", mod, nil, mod+"/plan", mod+"/operators", mod+"/jobs")
	add(mod+"/integration", mod, nil, mod+"/cmd/batchrun", mod+"/integration/fixtures")
	add(mod+"/integration/fixtures", mod, nil)
	add(mod+"/cmd/batchrun", mod, nil, mod+"/internal/cli", mod+"/plan", mod+"/cmd/batchrun/internal/flags")
	add(mod+"/internal/cli", mod, nil, mod+"/jobs")
	add(mod+"/cmd/batchrun/internal/flags", mod, nil)
	add(mod+"/ui", mod, nil, mod+"/jobs", mod+"/jobs/statedir", mod+"/scheduler")

	got := g.violations(importRules)
	want := []string{
		"pkg plan imports " + arrow + "/arrow: forbidden (plan imports only jobs/spec and the standard library)",
		"pkg plan/internal/order imports recovery: forbidden (plan imports only jobs/spec and the standard library)",
		"pkg operators imports github.com/cockroachdb/pebble/v2: forbidden (operators imports only jobs/spec, arrow (and the modules arrow uses) and the standard library)",
		"pkg operators imports jobs: forbidden (operators imports only jobs/spec, arrow (and the modules arrow uses) and the standard library)",
		"pkg storage imports integration: forbidden (" + noImporting + ")",
		"pkg storage imports integration: forbidden (storage imports no batchrun package)",
		"pkg shuffle imports plan: forbidden (shuffle imports only storage and jobs/spec among batchrun packages)",
		"pkg scheduler imports operators: forbidden (scheduler imports only plan, recovery, executor and the standard library: it decides, it runs nothing itself)",
		"pkg scheduler imports jobs: forbidden (scheduler imports only plan, recovery, executor and the standard library: it decides, it runs nothing itself)",
		"pkg integration imports cmd/batchrun: forbidden (" + noImporting + ")",
		"pkg cmd/batchrun imports plan: forbidden (cmd/batchrun is only a main: it imports internal/cli)",
		"pkg ui imports scheduler: forbidden (ui imports only jobs, jobs/statedir and the standard library: it shows the run history, it runs nothing)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations() =\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// listModule runs `go list -deps -json ./...` in the module root (found
// with `go env GOMOD`).
func listModule(t *testing.T) *graph {
	t.Helper()
	gomod := strings.TrimSpace(string(goCmd(t, "", "env", "GOMOD")))
	if gomod == "" || gomod == "/dev/null" || gomod == "NUL" {
		t.Fatalf("go env GOMOD = %q: not inside a module", gomod)
	}
	out := goCmd(t, filepath.Dir(gomod), "list", "-deps", "-json", "./...")
	g := &graph{byPath: map[string]*listedPackage{}}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(listedPackage)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		g.byPath[p.ImportPath] = p
		if p.Module != nil && p.Module.Main {
			g.module = p.Module.Path
			g.pkgs = append(g.pkgs, p)
		}
	}
	if g.module == "" {
		t.Fatalf("go list -deps -json ./... in %s listed no package of the main module", filepath.Dir(gomod))
	}
	return g
}

func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// violations returns one line per forbidden edge, in package order.
func (g *graph) violations(rules []importRule) []string {
	allowedModules := g.arrowModules()
	var out []string
	for _, p := range g.pkgs {
		from := g.rel(p.ImportPath)
		rule := ruleFor(rules, from)
		for _, imp := range p.Imports {
			to, own := g.relOK(imp)
			bad := func(why string) {
				name := imp
				if own {
					name = to
				}
				out = append(out, fmt.Sprintf("pkg %s imports %s: forbidden (%s)", from, name, why))
			}
			if own && isRootImport(from, to) {
				bad(noImporting)
			}
			if rule == nil {
				continue
			}
			switch {
			case own:
				if !within(to, rule.pkg) && !slices.Contains(rule.allow, to) {
					bad(rule.why)
				}
			case g.standard(imp):
			case rule.third == noThirdParty:
				bad(rule.why)
			case rule.third == arrowOnly:
				if !allowedModules[g.moduleOf(imp)] {
					bad(rule.why)
				}
			}
		}
	}
	return out
}

// ruleFor returns the most specific rule covering pkg, or nil.
func ruleFor(rules []importRule, pkg string) *importRule {
	var best *importRule
	for i := range rules {
		r := &rules[i]
		if within(pkg, r.pkg) && (best == nil || len(r.pkg) > len(best.pkg)) {
			best = r
		}
	}
	return best
}

// isRootImport reports whether importing to from from breaks noImporting:
// to is in integration or under cmd/, and from is outside to's tree.
func isRootImport(from, to string) bool {
	root := ""
	switch parts := strings.Split(to, "/"); {
	case parts[0] == "integration":
		root = "integration"
	case parts[0] == "cmd" && len(parts) >= 2:
		root = "cmd/" + parts[1]
	case parts[0] == "cmd":
		root = "cmd"
	default:
		return false
	}
	return !within(from, root)
}

// within reports whether pkg is dir or below it.
func within(pkg, dir string) bool {
	return pkg == dir || strings.HasPrefix(pkg, dir+"/")
}

// rel is path relative to the module (the module itself is ".").
func (g *graph) rel(path string) string {
	r, _ := g.relOK(path)
	return r
}

func (g *graph) relOK(path string) (string, bool) {
	if path == g.module {
		return ".", true
	}
	if r, ok := strings.CutPrefix(path, g.module+"/"); ok {
		return r, true
	}
	return path, false
}

func (g *graph) standard(path string) bool {
	if p := g.byPath[path]; p != nil {
		return p.Standard
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") // "C", or a package go list did not show
}

func (g *graph) moduleOf(path string) string {
	if p := g.byPath[path]; p != nil && p.Module != nil {
		return p.Module.Path
	}
	return ""
}

func isArrowModule(mod string) bool {
	return strings.HasPrefix(mod, "github.com/apache/arrow/go/") || strings.HasPrefix(mod, "github.com/apache/arrow-go/")
}

// arrowModules is arrow's module and the modules of every package that
// arrow's linked packages depend on: what operators may import besides the
// standard library and jobs/spec.
func (g *graph) arrowModules() map[string]bool {
	mods := map[string]bool{}
	for _, p := range g.byPath {
		if p.Module == nil || !isArrowModule(p.Module.Path) {
			continue
		}
		mods[p.Module.Path] = true
		for _, d := range p.Deps {
			if m := g.moduleOf(d); m != "" {
				mods[m] = true
			}
		}
	}
	return mods
}
