package archtest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// picture reads the package-import block of docs/architecture.md: one line
// per package, "path → dep, dep" (or "(nothing of webhookd)").
func picture(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatalf("read architecture doc: %v", err)
	}
	doc := string(raw)
	begin, end := strings.Index(doc, "<!-- imports:begin -->"), strings.Index(doc, "<!-- imports:end -->")
	if begin < 0 || end < begin {
		t.Fatal("docs/architecture.md has no <!-- imports:begin --> ... <!-- imports:end --> block")
	}
	out := map[string][]string{}
	for _, line := range strings.Split(doc[begin:end], "\n") {
		path, deps, ok := strings.Cut(line, "→")
		if !ok {
			continue
		}
		var list []string
		for _, d := range strings.Split(deps, ",") {
			if d = strings.TrimSpace(d); d != "" && d != "(nothing of webhookd)" {
				list = append(list, d)
			}
		}
		out[strings.TrimSpace(path)] = list
	}
	return out
}

// TestImportPictureMatchesCode fails when the import picture in
// docs/architecture.md and the code disagree: a package or an import the
// picture does not show, or one it shows that is gone.
func TestImportPictureMatchesCode(t *testing.T) {
	drawn := picture(t)
	for _, p := range listPackages(t) {
		var code []string
		for _, imp := range p.Imports {
			if imp != bbolt {
				code = append(code, imp)
			}
		}
		slices.Sort(code)
		want, ok := drawn[p.Path]
		if !ok {
			t.Errorf("package %s is not in the import picture; add: %s → %s", p.Path, p.Path, strings.Join(code, ", "))
			continue
		}
		delete(drawn, p.Path)
		slices.Sort(want)
		if !slices.Equal(code, want) {
			t.Errorf("%s imports %s; the picture says %s", p.Path, strings.Join(code, ", "), strings.Join(want, ", "))
		}
	}
	for path := range drawn {
		t.Errorf("the import picture shows %s, which is not a package", path)
	}
}
