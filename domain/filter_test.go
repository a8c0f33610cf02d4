package domain_test

import (
	"strings"
	"testing"

	"github.com/webhookd/webhookd/domain"
)

const bounce = `{"email": "a@example.com", "severity": "hard", "score": 7.5, "count": 3,
  "tags": ["newsletter", "promo"], "url": "https://shop.example.com/x", "name": "caf\u00e9 \"x\"",
  "meta": {"campaign": "spring", "nil": null, "ok": true}, "items": [{"sku": "A1"}, {"sku": "B2"}]}`

func TestFilterMatches(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`{"data.severity": "hard"}`, true},
		{`{"data.severity": "soft"}`, false},
		{`{"data": {"severity": "hard"}}`, true}, // Convoy's nested form
		{`{"data.meta.campaign": "spring"}`, true},
		{`{"data.meta": {"campaign": {"$in": ["winter", "spring"]}}}`, true},
		{`{"data.severity": {"$in": ["soft", "block"]}}`, false},
		{`{"data.severity": {"$nin": ["soft", "block"]}}`, true},
		{`{"data.severity": {"$ne": "hard"}}`, false},
		{`{"data.severity": {"$neq": "soft"}}`, true},
		{`{"data.tags": "newsletter"}`, true}, // an array holding it
		{`{"data.tags": "transactional"}`, false},
		{`{"data.tags": {"$contains": "promo"}}`, true},
		{`{"data.severity": {"$contains": "hard"}}`, false}, // not an array
		{`{"data.tags": {"$in": ["x", "promo"]}}`, true},
		{`{"data.tags": {"$ne": "promo"}}`, false},
		{`{"data.campaign": {"$exists": true}}`, false},
		{`{"data.campaign": {"$exists": false}}`, true},
		{`{"data.meta.nil": {"$exist": true}}`, true},
		{`{"data.meta.nil": null}`, true},
		{`{"data.missing": null}`, true},
		{`{"data.severity": null}`, false},
		{`{"data.meta.ok": true}`, true},
		{`{"data.meta.ok": false}`, false},
		{`{"data.score": {"$gt": 7}}`, true},
		{`{"data.score": {"$gte": 7.5, "$lt": 8}}`, true},
		{`{"data.score": {"$lte": 7}}`, false},
		{`{"data.count": 3}`, true},
		{`{"data.count": 3.0}`, true},
		{`{"data.severity": {"$gt": 1}}`, false}, // a string is no number
		{`{"data.url": {"$prefix": "https://shop."}}`, true},
		{`{"data.url": {"$prefix": "http://"}}`, false},
		{`{"data.name": "café \"x\""}`, true}, // escapes decoded
		{`{"data.name": {"$prefix": "caf\u00e9"}}`, true},
		{`{"data.items.1.sku": "B2"}`, true},
		{`{"data.items.2.sku": "B2"}`, false},
		{`{"data.severity": "hard", "data.count": 4}`, false},
		{`{"$or": [{"data.severity": "soft"}, {"data.count": 3}]}`, true},
		{`{"$and": [{"data.severity": "hard"}, {"$or": [{"data.tags": "x"}, {"data.score": {"$gt": 5}}]}]}`, true},
		{`{"$not": {"data.severity": "hard"}}`, false},
		{`{"data.score": {"$not": {"$gt": 8}}}`, true},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := domain.CompileFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Matches([]byte(bounce)); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("NoFilterMatchesEverything", func(t *testing.T) {
		f, err := domain.CompileFilter("")
		if err != nil || f != nil || !f.Matches([]byte(`{}`)) {
			t.Errorf("CompileFilter(\"\") = %v, %v", f, err)
		}
	})
	t.Run("DataNotAnObject", func(t *testing.T) {
		f, _ := domain.CompileFilter(`{"data.x": 1}`)
		for _, d := range []string{`[]`, `"x"`, `null`, ``, `{"x": `} {
			if f.Matches([]byte(d)) {
				t.Errorf("matches %q", d)
			}
		}
	})
}

// TestFilterErrors: every refusal is a userError on "filter" naming what
// is wrong, and NormalizeFilter stores one canonical form.
func TestFilterErrors(t *testing.T) {
	for _, tc := range []struct{ filter, mention string }{
		{`[1]`, "must be a JSON object"},
		{`"x"`, "must be a JSON object"},
		{`{"severity": "hard"}`, `"severity" must start with "data."`},
		{`{"data": "x"}`, `"data" must start with`},
		{`{"data..x": 1}`, `"data..x" has an empty segment`},
		{`{"data.x": {"$regex": "^a"}}`, `unknown operator "$regex" at data.x`},
		{`{"$nor": []}`, `unknown operator "$nor"`},
		{`{"data.x": {"$gt": "a"}}`, "$gt at data.x needs a number"},
		{`{"data.x": {"$prefix": 1}}`, "$prefix at data.x needs a string"},
		{`{"data.x": {"$in": []}}`, "$in at data.x needs a non-empty list"},
		{`{"data.x": {"$exists": 1}}`, "$exists at data.x needs true or false"},
		{`{"data.x": ["a"]}`, "use $in"},
		{`{"data.x": {}}`, "empty condition at data.x"},
		{`{"data.x": {"$eq": 1, "y": 2}}`, `"y" at data.x`},
		{`{"$or": {"data.x": 1}}`, "$or needs a non-empty list"},
		{`{"data": {"$eq": 1}}`, `"data" must start with`},
		{`{"data.x": ` + strings.Repeat(`{"$not": `, 10) + `{"$eq": 1}` + strings.Repeat(`}`, 10) + `}`, "nested deeper"},
		{`{"$or": [` + strings.Repeat(`{"data.x": 1},`, 70) + `{"data.x": 1}]}`, "at most 64 conditions"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			_, err := domain.NormalizeFilter([]byte(tc.filter))
			ues := domain.UserErrors(err)
			if len(ues) != 1 || ues[0].Field != "filter" || ues[0].Code != domain.EINVALID || !strings.Contains(ues[0].Message, tc.mention) {
				t.Fatalf("NormalizeFilter = %v, want a filter error mentioning %q", err, tc.mention)
			}
		})
	}
	for raw, want := range map[string]string{
		``: ``, `null`: ``, ` { } `: ``,
		"{\n \"data.severity\" : \"hard\"\n}": `{"data.severity":"hard"}`,
	} {
		if got, err := domain.NormalizeFilter([]byte(raw)); err != nil || got != want {
			t.Errorf("NormalizeFilter(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

// TestFilterNoMatchAllocatesNothing: fan-out runs every filter on every
// message, so the no-match path must not allocate.
func TestFilterNoMatchAllocatesNothing(t *testing.T) {
	data := []byte(bounce)
	for _, src := range []string{
		`{"data.severity": "soft"}`,
		`{"data.tags": {"$contains": "transactional"}}`,
		`{"data.score": {"$gt": 100}}`,
		`{"data.name": {"$prefix": "caf\u00e9 \"y"}}`,
		`{"$or": [{"data.meta.campaign": {"$in": ["a", "b"]}}, {"data.items.1.sku": "C3"}, {"data.url": {"$prefix": "http:"}}]}`,
		`{"$not": {"data.meta.ok": true}}`,
	} {
		f, err := domain.CompileFilter(src)
		if err != nil {
			t.Fatal(err)
		}
		if f.Matches(data) {
			t.Fatalf("%s matches", src)
		}
		if n := testing.AllocsPerRun(100, func() { f.Matches(data) }); n != 0 {
			t.Errorf("%s: %v allocations per no-match", src, n)
		}
	}
}
