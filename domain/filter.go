package domain

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Payload filters: a webhook may narrow the messages of its event types to
// those whose data matches a filter document. The syntax is Convoy's
// (itself MongoDB's query operators) over dotted paths rooted at "data":
//
//	{"data.severity": "hard"}                          equality
//	{"data.tags": "newsletter"}                        an array containing it
//	{"data.tags": {"$contains": "newsletter"}}         the same, arrays only
//	{"data.reason": {"$in": ["spam", "abuse"]}}        one of ($nin: none of)
//	{"data.campaign": {"$exists": true}}               present (also $exist)
//	{"data.score": {"$gte": 5, "$lt": 10}}             numeric $gt $gte $lt $lte
//	{"data.url": {"$prefix": "https://shop."}}         string prefix
//	{"data.severity": {"$ne": "soft"}}                 not equal (also $neq)
//	{"$or": [{...}, {...}]}, {"$and": [...]}, {"$not": {...}}
//
// Several keys in one document, or several operators on one path, must all
// match. A nested object without operators is a nested path, as in Convoy:
// {"data": {"severity": "hard"}} is {"data.severity": "hard"}. A filter is
// compiled once, when the webhook changes (CompileFilter), and matched
// against raw data without decoding it (Filter.Matches).

// Limits on a filter, so one webhook cannot make fan-out slow.
const (
	MaxFilterSize  = 4096 // bytes of compact JSON
	MaxFilterNodes = 64   // conditions and operators
	MaxFilterDepth = 8    // nesting of $and/$or/$not
	MaxFilterPath  = 16   // segments of one path
)

// Filter is a compiled payload filter. The nil *Filter matches everything,
// which is what a webhook without a filter gets.
type Filter struct {
	root filterNode
}

type filterOp byte

const (
	opAnd filterOp = iota
	opOr
	opNot
	opEq
	opIn
	opExists
	opGt
	opGte
	opLt
	opLte
	opPrefix
	opContains
)

// filterNode is one condition: a logical operator over kids, or a test of
// the value at path (segments after "data") against lits.
type filterNode struct {
	op     filterOp
	path   []string
	lits   []filterLit
	exists bool
	kids   []filterNode
}

// filterLit is a scalar from the filter document.
type filterLit struct {
	kind jsonKind
	str  string
	num  float64
	b    bool
}

// filterError is the userErrors entry for a bad filter: the message names
// the path or operator at fault.
func filterError(format string, args ...any) error {
	return FieldErrorf(EINVALID, "filter", format, args...)
}

// NormalizeFilter checks a filter document and returns its canonical form,
// compact JSON, or "" for no filter (empty, null or {}). It is what a
// webhook stores, so the same filter always compares equal.
func NormalizeFilter(raw []byte) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", filterError("not valid JSON")
	}
	if buf.String() == "{}" {
		return "", nil
	}
	if buf.Len() > MaxFilterSize {
		return "", filterError("at most %d bytes", MaxFilterSize)
	}
	if _, err := CompileFilter(buf.String()); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// CompileFilter compiles a filter document. "" compiles to nil, the filter
// that matches everything. Errors are EINVALID on the field "filter".
func CompileFilter(src string) (*Filter, error) {
	if src == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, filterError("not valid JSON")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, filterError(`must be a JSON object such as {"data.severity": "hard"}`)
	}
	c := compiler{}
	root, err := c.document(obj, nil, 0)
	if err != nil {
		return nil, err
	}
	return &Filter{root: root}, nil
}

type compiler struct{ nodes int }

func (c *compiler) count() error {
	c.nodes++
	if c.nodes > MaxFilterNodes {
		return filterError("at most %d conditions", MaxFilterNodes)
	}
	return nil
}

// document compiles an object of conditions, all of which must match.
// prefix is the path of an enclosing nested object.
func (c *compiler) document(obj map[string]any, prefix []string, depth int) (filterNode, error) {
	if depth > MaxFilterDepth {
		return filterNode{}, filterError("nested deeper than %d levels", MaxFilterDepth)
	}
	and := filterNode{op: opAnd}
	for _, key := range slices.Sorted(maps.Keys(obj)) { // sorted: the same filter always gives the same error
		n, err := c.member(key, obj[key], prefix, depth)
		if err != nil {
			return filterNode{}, err
		}
		and.kids = append(and.kids, n)
	}
	if len(and.kids) == 1 {
		return and.kids[0], nil
	}
	return and, nil
}

func (c *compiler) member(key string, v any, prefix []string, depth int) (filterNode, error) {
	if err := c.count(); err != nil {
		return filterNode{}, err
	}
	if strings.HasPrefix(key, "$") {
		if prefix != nil {
			return filterNode{}, filterError("operator %q at %s must be inside a condition on a path", key, strings.Join(prefix, "."))
		}
		return c.logical(key, v, depth)
	}
	obj, isObj := v.(map[string]any)
	nested := isObj && len(obj) > 0 && !hasOperator(obj)
	path, err := filterPath(key, prefix, nested)
	switch {
	case err != nil:
		return filterNode{}, err
	case nested:
		return c.document(obj, path, depth+1)
	case isObj && len(obj) == 0:
		return filterNode{}, filterError("empty condition at %s", strings.Join(path, "."))
	case isObj:
		return c.operators(path, obj, depth)
	}
	return c.compare(path, opEq, "$eq", v)
}

// filterPath checks a dotted key and joins it to prefix. The full path must
// start at "data", the only part of an event a filter can see; only a
// nested object (a prefix of longer paths) may be "data" itself.
func filterPath(key string, prefix []string, nested bool) ([]string, error) {
	path := append(slices.Clone(prefix), strings.Split(key, ".")...)
	full := strings.Join(path, ".")
	switch {
	case slices.Contains(path, ""):
		return nil, filterError("path %q has an empty segment", full)
	case path[0] != "data" || len(path) == 1 && !nested:
		return nil, filterError("path %q must start with \"data.\" (filters see the event's data)", full)
	case len(path) > MaxFilterPath:
		return nil, filterError("path %q has more than %d segments", full, MaxFilterPath)
	}
	return path, nil
}

func hasOperator(obj map[string]any) bool {
	for k := range obj {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}
