package domain

import (
	"encoding/json"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// ParseCatalogueFile parses an operator's file of extra event types, in YAML
// or JSON (JSON being a subset of YAML). The file is either a list of types
// or a mapping with the list under "eventTypes":
//
//	eventTypes:
//	  - name: order.shipped
//	    description: An order left the warehouse.
//	    sample: {"order": "A-1001", "carrier": "DHL"}
//
// A sample may be written as YAML/JSON structure, or as a string holding
// JSON text. Each type is validated as Catalogue.WithExtra does, and errors
// name the line; redefinitions of built-ins are caught when the result is
// merged with WithExtra. An empty file yields no types.
func ParseCatalogueFile(data []byte) ([]EventType, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse event type file: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	list, err := catalogueList(doc.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parse event type file: %w", err)
	}
	types := make([]EventType, 0, len(list.Content))
	for _, item := range list.Content {
		t, err := parseCatalogueEntry(item)
		if err == nil {
			t, err = normalizeEventType(t)
		}
		if err != nil {
			return nil, fmt.Errorf("parse event type file: line %d: %w", item.Line, err)
		}
		types = append(types, t)
	}
	return types, nil
}

// catalogueList finds the sequence of entries: the root itself, or the
// value of its "eventTypes" key.
func catalogueList(root *yaml.Node) (*yaml.Node, error) {
	switch root.Kind {
	case yaml.SequenceNode:
		return root, nil
	case yaml.MappingNode:
		var list *yaml.Node
		for i := 0; i+1 < len(root.Content); i += 2 {
			key, val := root.Content[i], root.Content[i+1]
			if key.Value != "eventTypes" {
				return nil, fmt.Errorf("line %d: unknown key %q (want eventTypes)", key.Line, key.Value)
			}
			list = val
		}
		if list == nil || list.Kind != yaml.SequenceNode {
			if list != nil && list.Tag == "!!null" {
				return &yaml.Node{Kind: yaml.SequenceNode}, nil
			}
			return nil, fmt.Errorf("line %d: eventTypes must be a list", root.Line)
		}
		return list, nil
	}
	return nil, fmt.Errorf("line %d: want a list of event types or a mapping with eventTypes", root.Line)
}

// parseCatalogueEntry reads one entry, refusing unknown keys so that a typo
// such as "descripton" is reported rather than silently dropped.
func parseCatalogueEntry(item *yaml.Node) (EventType, error) {
	var t EventType
	if item.Kind != yaml.MappingNode {
		return t, errors.New("an event type must be a mapping with name, description and sample")
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		key, val := item.Content[i], item.Content[i+1]
		var err error
		switch key.Value {
		case "name":
			err = val.Decode(&t.Name)
		case "description":
			err = val.Decode(&t.Description)
		case "sample":
			t.Sample, err = sampleJSON(val)
		default:
			err = fmt.Errorf("unknown key %q (want name, description, sample)", key.Value)
		}
		if err != nil {
			return t, fmt.Errorf("%s: %w", key.Value, err)
		}
	}
	return t, nil
}

// sampleJSON turns a sample node into JSON text. A string is taken to be
// JSON already; any other node is converted from its YAML structure.
func sampleJSON(n *yaml.Node) (json.RawMessage, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return json.RawMessage(n.Value), nil
	}
	keepTimestampsAsText(n)
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot be expressed as JSON (mapping keys must be strings): %w", err)
	}
	return out, nil
}

// keepTimestampsAsText retags YAML timestamps as strings, so a sample's
// "2024-05-14" stays as written instead of becoming "2024-05-14T00:00:00Z".
func keepTimestampsAsText(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!timestamp" {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		keepTimestampsAsText(c)
	}
}
