package domain

// Matches reports whether an event's data (raw JSON) passes the filter.
// The nil filter passes everything. It decodes nothing and allocates
// nothing: values are found and compared in the raw bytes.
//
// As in MongoDB, a test on a path whose value is an array passes when the
// array or any of its elements passes (so {"data.tags": "newsletter"}
// finds the tag), except $contains, which wants an array, and $exists.
// Comparisons with $gt, $gte, $lt and $lte pass only for numbers, and
// {"data.x": null} passes when x is null or missing.
func (f *Filter) Matches(data []byte) bool {
	if f == nil {
		return true
	}
	return f.root.matches(data)
}

func (n *filterNode) matches(data []byte) bool {
	switch n.op {
	case opAnd:
		for i := range n.kids {
			if !n.kids[i].matches(data) {
				return false
			}
		}
		return true
	case opOr:
		for i := range n.kids {
			if n.kids[i].matches(data) {
				return true
			}
		}
		return false
	case opNot:
		return !n.kids[0].matches(data)
	}
	v, found := jsonLookup(data, n.path)
	switch n.op {
	case opExists:
		return found == n.exists
	case opContains:
		return found && kindOf(v) == kindArray && eachElement(v, func(e []byte) bool { return scalarEquals(e, &n.lits[0]) })
	}
	if !found {
		return n.op == opEq && n.lits[0].kind == kindNull
	}
	if n.test(v) {
		return true
	}
	return kindOf(v) == kindArray && eachElement(v, n.test)
}

// test applies a comparison to one value (not to an array's elements).
func (n *filterNode) test(v []byte) bool {
	switch n.op {
	case opEq:
		return scalarEquals(v, &n.lits[0])
	case opIn:
		for i := range n.lits {
			if scalarEquals(v, &n.lits[i]) {
				return true
			}
		}
		return false
	case opPrefix:
		return kindOf(v) == kindString && jsonStringIs(v, n.lits[0].str, true)
	}
	x, ok := jsonNumber(v)
	if !ok {
		return false
	}
	y := n.lits[0].num
	switch n.op {
	case opGt:
		return x > y
	case opGte:
		return x >= y
	case opLt:
		return x < y
	case opLte:
		return x <= y
	}
	return false
}

// scalarEquals compares a raw JSON value with a literal of the filter.
func scalarEquals(v []byte, lit *filterLit) bool {
	k := kindOf(v)
	if k != lit.kind {
		return false
	}
	switch k {
	case kindString:
		return jsonStringIs(v, lit.str, false)
	case kindNumber:
		x, ok := jsonNumber(v)
		return ok && x == lit.num
	case kindBool:
		return (v[0] == 't') == lit.b
	case kindNull:
		return true
	}
	return false
}
