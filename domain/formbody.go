package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
)

// formField is one field of a FORM body: its SMTPeter name and the keys of
// the event's data it is read from, first present wins. A field whose
// keys are all absent is sent empty, so a script reading $_POST[name]
// always finds it.
type formField struct {
	name string
	from []string
}

// timestampField is filled with the Unix time of the data's "time" (or its
// own "timestamp"), as SMTPeter sends both.
const timestampField = "timestamp"

// formFields maps each SMTPeter event type to the fields SMTPeter's
// receivers read, in SMTPeter's order. Types without an entry (the
// profile events, webhookd's own and operator types) send their data's own
// fields instead.
var formFields = map[string][]formField{
	"email.delivery": {
		{"id", []string{"id"}}, {"recipient", []string{"recipient"}}, {"time", []string{"time"}},
		{timestampField, nil}, {"code", []string{"code"}}, {"extended", []string{"extended", "extendedCode"}},
		{"description", []string{"description", "response"}}, {"tags", []string{"tags"}},
	},
	"email.bounce": {
		{"id", []string{"id"}}, {timestampField, nil}, {"time", []string{"time"}},
		{"recipient", []string{"recipient"}}, {"envelope", []string{"envelope", "from"}},
		{"mime", []string{"mime"}}, {"tags", []string{"tags"}},
	},
	"email.failure": {
		{"id", []string{"id"}}, {"recipient", []string{"recipient"}}, {"action", []string{"action"}},
		{"state", []string{"state", "type"}}, {"code", []string{"code"}},
		{"extended", []string{"extended", "extendedCode"}}, {"description", []string{"description"}},
		{"tags", []string{"tags"}},
	},
	"email.click": {
		{"id", []string{"id"}}, {"recipient", []string{"recipient"}}, {"ip", []string{"ip"}},
		{"original", []string{"original", "url"}}, {"useragent", []string{"useragent", "userAgent"}},
		{"referer", []string{"referer", "referrer"}}, {"tags", []string{"tags"}},
	},
	"email.open": {
		{"id", []string{"id"}}, {"recipient", []string{"recipient"}}, {"ip", []string{"ip"}},
		{"time", []string{"time"}}, {"useragent", []string{"useragent", "userAgent"}},
		{"referer", []string{"referer", "referrer"}}, {"tags", []string{"tags"}},
	},
	"email.abuse": {
		{"id", []string{"id"}}, {"emailfrom", []string{"emailfrom", "recipient"}}, {"mime", []string{"mime"}},
	},
}

// DeliveryBodyAs is the exact body of m in format f: DeliveryBody for
// JSON, FormBody for FORM. Everything that sends or shows a delivery's body
// picks the variant through it, so they agree byte for byte.
func (m MessagePublished) DeliveryBodyAs(f BodyFormat) ([]byte, error) {
	if f == BodyFormatForm {
		return m.FormBody()
	}
	return m.DeliveryBody()
}

// FormBody is m as an application/x-www-form-urlencoded body that a
// receiver written for SMTPeter reads unchanged. It is deterministic (the
// same message always gives the same bytes) and loses nothing:
//
//   - For the SMTPeter types (formFields) the SMTPeter fields come first,
//     each always present; then webhookd's envelope: webhookd[id],
//     webhookd[type], webhookd[timestamp], webhookd[account], webhookd[test]=1
//     on a test send, and the whole data as webhookd[data][…].
//   - Other types send the data's own fields at the top level, then the
//     envelope without webhookd[data].
//
// Values: strings as they are, numbers as written in the JSON, true/false
// as 1/0 (as PHP's http_build_query), null as empty. An array of scalars
// is name[]=a&name[]=b (PHP's $_POST['tags'] is then an array); an array
// holding objects or arrays is indexed, name[0][key]=…; an object is
// name[key]=…, in the JSON's key order. An empty array or object, whose
// form cannot be told from absence, is sent as name= (empty).
func (m MessagePublished) FormBody() ([]byte, error) {
	data, err := parseOrdered(m.Data)
	if err != nil {
		return nil, fmt.Errorf("form body of message %s: %w", m.MessageID, err)
	}
	var f formWriter
	fields, smtpeter := formFields[m.Type]
	if smtpeter {
		for _, fd := range fields {
			f.value(fd.name, m.formFieldValue(data, fd))
		}
	} else if data.kind == '{' {
		for i, k := range data.keys {
			f.value(k, data.vals[i])
		}
	} else {
		f.value("data", data)
	}
	f.scalar("webhookd[id]", m.MessageID)
	f.scalar("webhookd[type]", m.Type)
	f.scalar("webhookd[timestamp]", m.PublishedAt.UTC().Format(time.RFC3339Nano))
	f.scalar("webhookd[account]", m.AccountID)
	if m.TestWebhookID != "" {
		f.scalar("webhookd[test]", "1") // as the JSON body's "test": true
	}
	if smtpeter {
		f.value("webhookd[data]", data)
	}
	return f.buf.Bytes(), nil
}

// formFieldValue reads one SMTPeter field from the data.
func (m MessagePublished) formFieldValue(data jsonNode, fd formField) jsonNode {
	if fd.name == timestampField {
		if ts, ok := data.get("timestamp"); ok {
			return ts
		}
		t := m.PublishedAt
		if v, ok := data.get("time"); ok && v.kind == '"' {
			if parsed, err := time.Parse(time.RFC3339, v.scalar); err == nil {
				t = parsed
			}
		}
		return jsonNode{kind: '0', scalar: strconv.FormatInt(t.Unix(), 10)}
	}
	for _, k := range fd.from {
		if v, ok := data.get(k); ok {
			return v
		}
	}
	return jsonNode{kind: 'n'}
}

// jsonNode is a JSON value that keeps its objects' key order, which
// encoding/json's maps lose. kind is '{', '[', '"' (string), '0' (number,
// its text in scalar), 't', 'f' or 'n'.
type jsonNode struct {
	kind   byte
	scalar string
	keys   []string
	vals   []jsonNode
}

func (n jsonNode) get(key string) (jsonNode, bool) {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i], true
		}
	}
	return jsonNode{}, false
}

// parseOrdered parses raw (empty means null) into a jsonNode.
func parseOrdered(raw json.RawMessage) (jsonNode, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return jsonNode{kind: 'n'}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return jsonNode{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonNode{}, fmt.Errorf("data: trailing content after the JSON value")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return jsonNode{}, fmt.Errorf("data: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		n := jsonNode{kind: byte(t)}
		for dec.More() {
			if n.kind == '{' {
				k, err := dec.Token()
				if err != nil {
					return jsonNode{}, fmt.Errorf("data: %w", err)
				}
				n.keys = append(n.keys, k.(string))
			}
			v, err := parseNode(dec)
			if err != nil {
				return jsonNode{}, err
			}
			n.vals = append(n.vals, v)
		}
		_, err := dec.Token() // the closing delimiter
		return n, err
	case string:
		return jsonNode{kind: '"', scalar: t}, nil
	case json.Number:
		return jsonNode{kind: '0', scalar: t.String()}, nil
	case bool:
		if t {
			return jsonNode{kind: 't'}, nil
		}
		return jsonNode{kind: 'f'}, nil
	default:
		return jsonNode{kind: 'n'}, nil
	}
}

// formWriter appends name=value pairs in the order written.
type formWriter struct{ buf bytes.Buffer }

func (f *formWriter) scalar(name, value string) {
	if f.buf.Len() > 0 {
		f.buf.WriteByte('&')
	}
	f.buf.WriteString(url.QueryEscape(name))
	f.buf.WriteByte('=')
	f.buf.WriteString(url.QueryEscape(value))
}

// value writes n under name with the nesting rules of FormBody.
func (f *formWriter) value(name string, n jsonNode) {
	switch n.kind {
	case '"', '0':
		f.scalar(name, n.scalar)
	case 't':
		f.scalar(name, "1")
	case 'f':
		f.scalar(name, "0")
	case 'n':
		f.scalar(name, "")
	case '{':
		if len(n.keys) == 0 {
			f.scalar(name, "")
		}
		for i, k := range n.keys {
			f.value(name+"["+k+"]", n.vals[i])
		}
	case '[':
		f.array(name, n.vals)
	}
}

func (f *formWriter) array(name string, vals []jsonNode) {
	if len(vals) == 0 {
		f.scalar(name, "")
		return
	}
	nested := false
	for _, v := range vals {
		nested = nested || v.kind == '{' || v.kind == '['
	}
	for i, v := range vals {
		if nested {
			f.value(name+"["+strconv.Itoa(i)+"]", v)
		} else {
			f.value(name+"[]", v)
		}
	}
}
