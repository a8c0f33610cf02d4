package domain

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestCatalogueBuiltin(t *testing.T) {
	c := BuiltinCatalogue()
	want := []string{
		"delivery.failed", "email.abuse", "email.bounce", "email.click", "email.delivery", "email.failure", "email.open",
		"profile.created", "profile.deleted", "profile.updated", "webhook.disabled", "webhook.rate_limited",
		"webhook.recovered", "webhook.test", "webhook.verification_failed",
	}
	var got []string
	for _, et := range c.All() {
		got = append(got, et.Name)
		if et.Description == "" {
			t.Errorf("%s has no description", et.Name)
		}
		var v map[string]any
		if err := json.Unmarshal(et.Sample, &v); err != nil || len(v) == 0 {
			t.Errorf("%s sample is not a non-empty JSON object: %v", et.Name, err)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("All() = %v, want %v (sorted)", got, want)
	}
	t.Run("Lookup", func(t *testing.T) {
		et, ok := c.Lookup("webhook.disabled")
		if !ok || !et.Operational {
			t.Fatalf("Lookup(webhook.disabled) = %+v, %v; want an operational type", et, ok)
		}
		if _, ok := c.Lookup("email.nope"); ok {
			t.Fatal("Lookup of an unknown type succeeded")
		}
	})
	t.Run("Known", func(t *testing.T) {
		if !c.Known("email.bounce") || c.Known("email") || c.Known("") {
			t.Fatal("Known disagrees with the built-in set")
		}
	})
	t.Run("LookupReturnsCopy", func(t *testing.T) {
		et, _ := c.Lookup("email.open")
		et.Sample[0] = 'X'
		again, _ := c.Lookup("email.open")
		if again.Sample[0] != '{' {
			t.Fatal("mutating a looked-up sample changed the catalogue")
		}
	})
}

func TestCatalogueWithExtra(t *testing.T) {
	base := BuiltinCatalogue()
	t.Run("OK", func(t *testing.T) {
		c, err := base.WithExtra([]EventType{
			{Name: "order.shipped", Description: "shipped", Sample: json.RawMessage(`{ "order" : "A-1" }`)},
			{Name: "order.v2.refund_issued"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.Len() != base.Len()+2 || !c.Known("order.shipped") || !c.Known("email.open") {
			t.Fatalf("merged catalogue has %d types", c.Len())
		}
		et, _ := c.Lookup("order.shipped")
		if string(et.Sample) != `{"order":"A-1"}` {
			t.Errorf("sample = %s, want compacted", et.Sample)
		}
		et, _ = c.Lookup("order.v2.refund_issued")
		if string(et.Sample) != `{}` {
			t.Errorf("empty sample = %s, want {}", et.Sample)
		}
		if base.Known("order.shipped") {
			t.Error("WithExtra changed the receiver")
		}
	})
	bad := []struct {
		name  string
		extra []EventType
		want  string
	}{
		{"ErrNoNamespace", []EventType{{Name: "shipped"}}, "lowercase dotted"},
		{"ErrUppercase", []EventType{{Name: "Order.Shipped"}}, "lowercase dotted"},
		{"ErrTrailingDot", []EventType{{Name: "order.shipped."}}, "lowercase dotted"},
		{"ErrSpace", []EventType{{Name: "order. shipped"}}, "lowercase dotted"},
		{"ErrTooLong", []EventType{{Name: "a." + strings.Repeat("b", 99)}}, "at most 100"},
		{"ErrDescription", []EventType{{Name: "a.b", Description: strings.Repeat("d", 501)}}, "description"},
		{"ErrSampleJSON", []EventType{{Name: "a.b", Sample: json.RawMessage(`{"a":`)}}, "not valid JSON"},
		{"ErrRedefineBuiltin", []EventType{{Name: "email.bounce"}}, "cannot be redefined"},
		{"ErrDuplicate", []EventType{{Name: "a.b"}, {Name: "a.b"}}, "listed twice"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := base.WithExtra(tc.extra)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCatalogueFile(t *testing.T) {
	t.Run("YAMLMapping", func(t *testing.T) {
		types, err := ParseCatalogueFile([]byte(`
eventTypes:
  - name: order.shipped
    description: An order left the warehouse.
    sample:
      order: A-1001
      items: [1, 2]
      when: 2024-05-14
  - name: order.cancelled
    sample: '{"order": "A-1002"}'
`))
		if err != nil {
			t.Fatal(err)
		}
		if len(types) != 2 || types[0].Name != "order.shipped" || types[0].Description != "An order left the warehouse." {
			t.Fatalf("types = %+v", types)
		}
		if got := string(types[0].Sample); got != `{"items":[1,2],"order":"A-1001","when":"2024-05-14"}` {
			t.Errorf("structured sample = %s", got)
		}
		if got := string(types[1].Sample); got != `{"order":"A-1002"}` {
			t.Errorf("string sample = %s", got)
		}
	})
	t.Run("JSONList", func(t *testing.T) {
		types, err := ParseCatalogueFile([]byte(`[{"name": "invoice.paid", "sample": {"amount": 12.5}}]`))
		if err != nil || len(types) != 1 || string(types[0].Sample) != `{"amount":12.5}` {
			t.Fatalf("types = %+v, err = %v", types, err)
		}
		if _, err := BuiltinCatalogue().WithExtra(types); err != nil {
			t.Fatalf("parsed types do not merge: %v", err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		for _, in := range []string{"", "eventTypes:\n", "[]"} {
			types, err := ParseCatalogueFile([]byte(in))
			if err != nil || len(types) != 0 {
				t.Errorf("ParseCatalogueFile(%q) = %v, %v; want no types", in, types, err)
			}
		}
	})
	bad := []struct{ name, in, want string }{
		{"ErrSyntax", "eventTypes: [", "parse event type file"},
		{"ErrUnknownTopKey", "types: []", `unknown key "types"`},
		{"ErrNotList", "eventTypes: 3", "must be a list"},
		{"ErrScalarRoot", "hello", "want a list"},
		{"ErrEntryNotMapping", "- order.shipped", "must be a mapping"},
		{"ErrUnknownEntryKey", "- name: a.b\n  descripton: typo", `unknown key "descripton"`},
		{"ErrBadName", "- name: Order", "line 1"},
		{"ErrBadSampleJSON", "- name: a.b\n  sample: '{oops'", "not valid JSON"},
		{"ErrNonStringKeys", "- name: a.b\n  sample: {1: x, [2]: y}", "sample"},
		{"ErrNameNotString", "- name: [a]\n", "name"},
		{"ErrDuplicateLine", "- name: a.b\n- name: c.d\n  sample: '['\n", "line 2"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCatalogueFile([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEventTypeName(t *testing.T) {
	for name, want := range map[string]bool{
		"email.open": true, "a.b.c": true, "order_v2.shipped_1": true,
		"email": false, ".email": false, "email..open": false, "Email.open": false, "email-open.x": false, "": false,
	} {
		if got := ValidEventTypeName(name); got != want {
			t.Errorf("ValidEventTypeName(%q) = %v, want %v", name, got, want)
		}
	}
}
