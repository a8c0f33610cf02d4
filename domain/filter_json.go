package domain

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON reader for payload filters. It finds a value by path in an
// event's raw data and compares it in place, without decoding the document
// or allocating: fan-out runs every filter of every matching webhook on
// every message, so a filter that does not match must cost no garbage.
// Data is valid JSON (publish checks it); on anything else the reader
// answers "not found" rather than failing.

// jsonKind classifies a value by its first byte.
type jsonKind byte

const (
	kindNone jsonKind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func kindOf(v []byte) jsonKind {
	if len(v) == 0 {
		return kindNone
	}
	switch c := v[0]; {
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	default:
		return kindNumber
	}
}

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the value starting at d[i], or -1.
func valueEnd(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				j = stringEnd(d, j) - 1
				if j < 0 {
					return -1
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(d) && d[j] != ',' && d[j] != '}' && d[j] != ']' && d[j] != ' ' && d[j] != '\t' && d[j] != '\n' && d[j] != '\r' {
			j++
		}
		return j
	}
}

// stringEnd returns the index just past the string whose quote is d[i].
func stringEnd(d []byte, i int) int {
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// jsonLookup returns the value at path inside the document d, and whether
// it is there. A segment of digits also indexes an array. Only the
// containers on the way are walked; the document is not scanned first.
func jsonLookup(d []byte, path []string) ([]byte, bool) {
	v := d[skipSpace(d, 0):]
	if len(path) == 0 {
		end := valueEnd(v, 0)
		if end < 0 {
			return nil, false
		}
		return v[:end], true
	}
	for _, seg := range path {
		var ok bool
		switch kindOf(v) {
		case kindObject:
			v, ok = objectMember(v, seg)
		case kindArray:
			v, ok = arrayIndex(v, seg)
		}
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// objectMember returns the member key of the object o.
func objectMember(o []byte, key string) ([]byte, bool) {
	var found []byte
	ok := false
	eachMember(o, func(k, v []byte) bool {
		if jsonStringIs(k, key, false) {
			found, ok = v, true // a repeated key: the last one wins, as in encoding/json
		}
		return true
	})
	return found, ok
}

// eachMember calls fn with each raw key (quoted) and value of object o
// until fn returns false.
func eachMember(o []byte, fn func(k, v []byte) bool) {
	i := skipSpace(o, 1)
	for i < len(o) && o[i] == '"' {
		ke := stringEnd(o, i)
		if ke < 0 {
			return
		}
		vs := skipSpace(o, skipSpace(o, ke)+1) // past the colon
		ve := valueEnd(o, vs)
		if ve < 0 || !fn(o[i:ke], o[vs:ve]) {
			return
		}
		i = skipSpace(o, ve)
		if i < len(o) && o[i] == ',' {
			i = skipSpace(o, i+1)
		}
	}
}

// eachElement calls fn with each element of array a until fn returns true,
// and reports whether one did.
func eachElement(a []byte, fn func(v []byte) bool) bool {
	i := skipSpace(a, 1)
	for i < len(a) && a[i] != ']' {
		ve := valueEnd(a, i)
		if ve < 0 {
			return false
		}
		if fn(a[i:ve]) {
			return true
		}
		i = skipSpace(a, ve)
		if i < len(a) && a[i] == ',' {
			i = skipSpace(a, i+1)
		}
	}
	return false
}

func arrayIndex(a []byte, seg string) ([]byte, bool) {
	n, err := strconv.Atoi(seg)
	if err != nil || n < 0 {
		return nil, false
	}
	var found []byte
	eachElement(a, func(v []byte) bool {
		if n == 0 {
			found = v
			return true
		}
		n--
		return false
	})
	return found, found != nil
}

// jsonStringIs reports whether the quoted JSON string raw equals lit, or,
// with prefix, starts with it. Escapes are decoded as it goes.
func jsonStringIs(raw []byte, lit string, prefix bool) bool {
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	body := raw[1 : len(raw)-1]
	j := 0 // position in lit
	for i := 0; i < len(body); {
		if j == len(lit) {
			return prefix
		}
		c := body[i]
		if c != '\\' {
			if lit[j] != c {
				return false
			}
			i, j = i+1, j+1
			continue
		}
		r, n := unescape(body[i:])
		if n == 0 {
			return false
		}
		i += n
		var buf [utf8.UTFMax]byte
		w := utf8.EncodeRune(buf[:], r)
		if j+w > len(lit) || string(buf[:w]) != lit[j:j+w] {
			return false
		}
		j += w
	}
	return j == len(lit)
}

// unescape decodes the escape sequence at the start of s ("\n", "\u00e9",
// a surrogate pair) and returns the rune and the bytes it used, 0 if bad.
func unescape(s []byte) (rune, int) {
	if len(s) < 2 {
		return 0, 0
	}
	switch s[1] {
	case '"', '\\', '/':
		return rune(s[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r, ok := hex4(s[2:])
		if !ok {
			return 0, 0
		}
		if utf16.IsSurrogate(r) && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if r2, ok := hex4(s[8:]); ok {
				return utf16.DecodeRune(r, r2), 12
			}
		}
		if utf16.IsSurrogate(r) {
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return 0, 0
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// jsonNumber parses a raw JSON number. The conversion to string stays on
// the stack: ParseFloat does not keep its argument.
func jsonNumber(raw []byte) (float64, bool) {
	if kindOf(raw) != kindNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil
}
