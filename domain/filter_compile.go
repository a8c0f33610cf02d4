package domain

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// The operators of a filter document and what each compiles to. Convoy's
// spellings ($neq, $exist) and MongoDB's ($ne, $exists) are both accepted.

// logical compiles $and, $or (lists of documents) and $not (a document).
func (c *compiler) logical(op string, v any, depth int) (filterNode, error) {
	switch op {
	case "$and", "$or":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return filterNode{}, filterError("%s needs a non-empty list of conditions", op)
		}
		n := filterNode{op: opAnd}
		if op == "$or" {
			n.op = opOr
		}
		for _, item := range list {
			obj, ok := item.(map[string]any)
			if !ok || len(obj) == 0 {
				return filterNode{}, filterError("each item of %s must be a non-empty object of conditions", op)
			}
			kid, err := c.document(obj, nil, depth+1)
			if err != nil {
				return filterNode{}, err
			}
			n.kids = append(n.kids, kid)
		}
		return n, nil
	case "$not":
		obj, ok := v.(map[string]any)
		if !ok || len(obj) == 0 {
			return filterNode{}, filterError("$not needs a non-empty object of conditions")
		}
		kid, err := c.document(obj, nil, depth+1)
		return filterNode{op: opNot, kids: []filterNode{kid}}, err
	}
	return filterNode{}, filterError("unknown operator %q (use $and, $or or $not here)", op)
}

// operators compiles {"$op": value, ...} on one path; all must match.
func (c *compiler) operators(path []string, obj map[string]any, depth int) (filterNode, error) {
	at := strings.Join(path, ".")
	if depth > MaxFilterDepth {
		return filterNode{}, filterError("nested deeper than %d levels at %s", MaxFilterDepth, at)
	}
	and := filterNode{op: opAnd}
	for _, op := range slices.Sorted(maps.Keys(obj)) {
		if err := c.count(); err != nil {
			return filterNode{}, err
		}
		if !strings.HasPrefix(op, "$") {
			return filterNode{}, filterError("%q at %s: operators and nested paths cannot be mixed", op, at)
		}
		n, err := c.operator(path, op, obj[op], depth)
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

func (c *compiler) operator(path []string, op string, v any, depth int) (filterNode, error) {
	at := strings.Join(path, ".")
	switch op {
	case "$eq", "$contains", "$prefix", "$gt", "$gte", "$lt", "$lte":
		return c.compare(path, map[string]filterOp{"$eq": opEq, "$contains": opContains, "$prefix": opPrefix,
			"$gt": opGt, "$gte": opGte, "$lt": opLt, "$lte": opLte}[op], op, v)
	case "$ne", "$neq":
		n, err := c.compare(path, opEq, op, v)
		return filterNode{op: opNot, kids: []filterNode{n}}, err
	case "$in", "$nin":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return filterNode{}, filterError("%s at %s needs a non-empty list of values", op, at)
		}
		n := filterNode{op: opIn, path: path[1:]}
		for _, item := range list {
			lit, err := literal(item, op, at)
			if err != nil {
				return filterNode{}, err
			}
			n.lits = append(n.lits, lit)
		}
		if op == "$nin" {
			return filterNode{op: opNot, kids: []filterNode{n}}, nil
		}
		return n, nil
	case "$exists", "$exist":
		b, ok := v.(bool)
		if !ok {
			return filterNode{}, filterError("%s at %s needs true or false", op, at)
		}
		return filterNode{op: opExists, path: path[1:], exists: b}, nil
	case "$not":
		obj, ok := v.(map[string]any)
		if !ok || len(obj) == 0 || !hasOperator(obj) {
			return filterNode{}, filterError("$not at %s needs an object of operators", at)
		}
		kid, err := c.operators(path, obj, depth+1)
		return filterNode{op: opNot, kids: []filterNode{kid}}, err
	}
	return filterNode{}, filterError("unknown operator %q at %s", op, at)
}

// compare compiles a test of the value at path against one literal.
func (c *compiler) compare(path []string, op filterOp, name string, v any) (filterNode, error) {
	at := strings.Join(path, ".")
	lit, err := literal(v, name, at)
	if err != nil {
		return filterNode{}, err
	}
	switch {
	case (op == opGt || op == opGte || op == opLt || op == opLte) && lit.kind != kindNumber:
		return filterNode{}, filterError("%s at %s needs a number", name, at)
	case op == opPrefix && lit.kind != kindString:
		return filterNode{}, filterError("$prefix at %s needs a string", at)
	}
	return filterNode{op: op, path: path[1:], lits: []filterLit{lit}}, nil
}

// literal converts a scalar of the filter document; lists and objects are
// refused with a hint.
func literal(v any, op, at string) (filterLit, error) {
	switch v := v.(type) {
	case string:
		return filterLit{kind: kindString, str: v}, nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return filterLit{}, filterError("%s at %s: %s is not a number", op, at, v)
		}
		return filterLit{kind: kindNumber, num: f}, nil
	case bool:
		return filterLit{kind: kindBool, b: v}, nil
	case nil:
		return filterLit{kind: kindNull}, nil
	case []any:
		return filterLit{}, filterError("%s at %s: a list is not a value here (use $in for one of several)", op, at)
	default:
		return filterLit{}, filterError("%s at %s: an object is not a value here", op, at)
	}
}
