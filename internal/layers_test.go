package internal

import (
	"errors"
	"fmt"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/honten/honten"

// layers are doc.go's layers, bottom first: a package's layer is that of
// the longest prefix matching its path (relative to the module; a prefix
// matches the path itself and the packages below it).
var layers = []struct {
	name     string
	prefixes []string
}{
	{"foundation", []string{"internal/metrics", "internal/progress", "internal/database", "internal/devdb", "internal/pgtest",
		"internal/natstest", "internal/procstat", "internal/zengin", "internal/browser", "http/uitest", "migrations"}},
	{"domain", []string{"domain"}},
	{"infrastructure", []string{"eventstore", "search", "integrations"}},
	{"application", []string{"commands", "projections", "internal/ordertest", "internal/projtest", "internal/feedcost"}},
	{"interface", []string{"http"}},
	{"wiring", []string{"internal/app", "internal/demo"}},
	{"tools", []string{"internal/bench", "internal/chaos", "internal/fleet", "internal/apitest", "search/searchtest"}},
	{"binaries", []string{"cmd"}},
}

// exactLayers give a layer to a package alone, not to those below it:
// this documentation package imports nothing.
var exactLayers = map[string]string{"internal": "foundation"}

// forbidden are imports the layers allow but doc.go rules out: a package
// matching from (a prefix, as in layers) imports none matching to.
var forbidden = []struct{ from, to, why string }{
	{"domain", "", "a domain package imports only domain packages"},
	{"projections", "commands", "the read side never imports the write side"},
}

// forbiddenExact are imports ruled out for exactly the package from.
var forbiddenExact = []struct{ from, to, why string }{
	{"commands", "projections", "the commands package imports no read model"},
	{"commands/reservations", "projections", "the reservations package imports no read model"},
}

func under(path, prefix string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// layerOf returns the rank and name of a module package's layer, or -1.
func layerOf(path string) (int, string) {
	if n, ok := exactLayers[path]; ok {
		for i, l := range layers {
			if l.name == n {
				return i, n
			}
		}
	}
	rank, name, best := -1, "", -1
	for i, l := range layers {
		for _, p := range l.prefixes {
			if under(path, p) && len(p) > best {
				rank, name, best = i, l.name, len(p)
			}
		}
	}
	return rank, name
}

// check returns what breaks the layering in imports, which maps each
// package (path relative to the module) to the module packages it imports
// (the same way), one line per broken rule, sorted.
func check(imports map[string][]string) []string {
	var out []string
	for pkg, deps := range imports {
		rank, name := layerOf(pkg)
		if rank < 0 {
			out = append(out, fmt.Sprintf("%s: in no layer (give it one in internal/layers_test.go and doc.go)", pkg))
			continue
		}
		for _, dep := range deps {
			if dr, dn := layerOf(dep); dr > rank {
				out = append(out, fmt.Sprintf("%s (%s) imports %s (%s): upward", pkg, name, dep, dn))
			}
			for _, f := range forbidden {
				if under(pkg, f.from) && (f.to == "" && !under(dep, f.from) || f.to != "" && under(dep, f.to)) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, dep, f.why))
				}
			}
			for _, f := range forbiddenExact {
				if pkg == f.from && under(dep, f.to) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, dep, f.why))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// load reads the non-test imports of every package of the module rooted
// at root (build constraints as for this platform), keeping the module's
// own packages, by path relative to the module.
func load(root string) (map[string][]string, error) {
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			var none *build.NoGoError
			if errors.As(err, &none) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		deps := []string{}
		for _, imp := range pkg.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				deps = append(deps, strings.TrimPrefix(strings.TrimPrefix(imp, module), "/"))
			}
		}
		out[rel] = deps
		return nil
	})
	return out, err
}

// No package of the module imports one of a higher layer, and the domain
// and the read side keep to their own rules (doc.go).
func TestLayers(t *testing.T) {
	imports, err := load("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"domain/order", "commands", "commands/reservations", "http", "internal/app", "internal/metrics", "cmd/honten"} {
		if _, ok := imports[must]; !ok {
			t.Fatalf("package %s not found: the walk missed the module", must)
		}
	}
	if len(imports) < 50 {
		t.Fatalf("only %d packages found", len(imports))
	}
	for _, v := range check(imports) {
		t.Error(v)
	}
}

// The checker finds each kind of violation in a synthetic module on disk,
// and none in a well-layered one.
func TestLayersCheckerFindsViolations(t *testing.T) {
	write := func(root, pkg string, imports ...string) {
		t.Helper()
		dir := filepath.Join(root, filepath.FromSlash(pkg))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		src := "package " + filepath.Base(dir) + "\n\n"
		for _, imp := range imports {
			src += fmt.Sprintf("import _ %q\n", module+"/"+imp)
		}
		// A test file's imports are not the package's.
		test := fmt.Sprintf("package %s\n\nimport _ %q\n", filepath.Base(dir), module+"/cmd/honten")
		if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(test), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := t.TempDir()
	write(good, "internal/metrics")
	write(good, "domain/order")
	write(good, "eventstore", "internal/metrics", "domain/order")
	write(good, "commands", "eventstore", "domain/order")
	write(good, "projections", "eventstore")
	write(good, "http", "commands", "projections")
	write(good, "internal/app", "http", "internal/metrics")
	write(good, "internal/bench", "internal/app")
	write(good, "cmd/honten", "internal/bench")
	imports, err := load(good)
	if err != nil {
		t.Fatal(err)
	}
	if v := check(imports); len(v) != 0 {
		t.Fatalf("a well-layered module breaks the rules: %v", v)
	}

	bad := t.TempDir()
	write(bad, "internal/metrics", "internal/app")     // foundation → wiring
	write(bad, "internal/app")                         //
	write(bad, "domain/order", "commands")             // domain → application
	write(bad, "domain/cart", "internal/metrics")      // domain → not domain (allowed by rank)
	write(bad, "commands", "projections")              // the write side's package → a read model
	write(bad, "projections/views", "commands/things") // read side → write side
	write(bad, "commands/things")                      //
	write(bad, "internal/demo", "internal/bench")      // wiring → tools
	write(bad, "internal/bench")                       //
	write(bad, "internal/newthing")                    // no layer
	imports, err = load(bad)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"commands imports projections: the commands package imports no read model",
		"domain/cart imports internal/metrics: a domain package imports only domain packages",
		"domain/order (domain) imports commands (application): upward",
		"domain/order imports commands: a domain package imports only domain packages",
		"internal/demo (wiring) imports internal/bench (tools): upward",
		"internal/metrics (foundation) imports internal/app (wiring): upward",
		"internal/newthing: in no layer (give it one in internal/layers_test.go and doc.go)",
		"projections/views imports commands/things: the read side never imports the write side",
	}
	got := check(imports)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("violations found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
