package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/webhookd/webhookd"

// pkg is one package of the module as go list reports it: its path
// relative to the module and its non-test imports inside the module (and
// bbolt, the read-model storage).
type pkg struct {
	Path    string
	Imports []string
}

// listPackages runs go list over the module, so the check reads the same
// import graph the compiler does.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("decode go list: %v", err)
		}
		q := pkg{Path: rel(p.ImportPath)}
		for _, imp := range p.Imports {
			if imp == bbolt || strings.HasPrefix(imp, module+"/") {
				q.Imports = append(q.Imports, rel(imp))
			}
		}
		pkgs = append(pkgs, q)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

const bbolt = "go.etcd.io/bbolt"

func rel(path string) string { return strings.TrimPrefix(path, module+"/") }

// adapters turn the outside world (GraphQL, HTTP routes, outgoing POSTs,
// verification fetches, the UI) into calls on app.
var adapters = []string{"graph", "httpserver", "delivery", "verification", "web"}

// adapterOf is the adapter a package belongs to, or "".
func adapterOf(path string) string {
	for _, a := range adapters {
		if path == a || strings.HasPrefix(path, a+"/") {
			return a
		}
	}
	return ""
}

// readSide is what an adapter may import of the read models: the
// dispatcher is a projector and reads the due index through due.Reader;
// Change is the projections' vocabulary. Everything else (bbolt, the
// read-model packages, their implementation of app.ReadModel) is behind
// app.
var readSide = map[string][]string{
	"delivery": {"projections", "projections/due"},
}

func isReadModelStorage(path string) bool {
	return path == bbolt || path == "projections" || strings.HasPrefix(path, "projections/")
}

// TestAdaptersImportOnlyTheCore fails when an adapter imports another
// adapter or reaches the read model's storage instead of calling app.
func TestAdaptersImportOnlyTheCore(t *testing.T) {
	for _, p := range listPackages(t) {
		a := adapterOf(p.Path)
		if a == "" {
			continue
		}
		for _, imp := range p.Imports {
			if b := adapterOf(imp); b != "" && b != a {
				t.Errorf("adapter %s imports adapter %s (%s -> %s); adapters call app, not each other", a, b, p.Path, imp)
			}
			if isReadModelStorage(imp) && !slices.Contains(readSide[a], imp) {
				t.Errorf("adapter %s imports %s (in %s); the read side is behind app (app.ReadModel)", a, imp, p.Path)
			}
		}
	}
}

// TestCoreDoesNotKnowStorage fails when the application layer or the domain
// reaches bbolt or the read models' implementation, which would tie app to
// one read-model backend.
func TestCoreDoesNotKnowStorage(t *testing.T) {
	for _, p := range listPackages(t) {
		switch {
		case p.Path == "domain":
			for _, imp := range p.Imports {
				if imp != "eventstore" {
					t.Errorf("domain imports %s; it may import only eventstore's event interface", imp)
				}
			}
		case p.Path == "app":
			for _, imp := range p.Imports {
				if imp == bbolt || imp == "projections/readmodels" || adapterOf(imp) != "" {
					t.Errorf("app imports %s; it knows the read side only as ReadModel", imp)
				}
			}
		}
	}
}
