package scenarios

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Marshal returns the scenario as YAML, as it will run: after defaults and
// ApplySet. Parse of the result gives back an equal scenario; the runner
// writes it to the run directory's scenario.yaml.
func (s *Scenario) Marshal() ([]byte, error) {
	var root yaml.Node
	if err := root.Encode(s); err != nil {
		return nil, fmt.Errorf("encode scenario %q: %w", s.Name, err)
	}
	if s.Target.Builtin != nil && len(s.Target.Builtin) == 0 {
		// omitempty dropped "builtin: {}", which still means "the built-in
		// server with its defaults".
		if target := mappingValue(&root, "target"); target != nil {
			target.Content = append(target.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "builtin"},
				&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle})
		}
	}
	// Write flag values, vars and matrix values plainly (max_requests: 100,
	// not "100"); the loader reads any scalar as text there.
	if target := mappingValue(&root, "target"); target != nil {
		plain(mappingValue(target, "builtin"))
		if c := mappingValue(target, "command"); c != nil {
			plain(mappingValue(c, "vars"))
		}
		if u := mappingValue(target, "url"); u != nil {
			plain(mappingValue(u, "vars"))
		}
	}
	if vs := mappingValue(&root, "variants"); vs != nil {
		for _, v := range vs.Content {
			plain(mappingValue(v, "set"))
		}
	}
	if m := mappingValue(&root, "matrix"); m != nil {
		for i := 1; i < len(m.Content); i += 2 {
			plain(m.Content[i])
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("encode scenario %q: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode scenario %q: %w", s.Name, err)
	}
	return buf.Bytes(), nil
}

// mappingValue returns the value of key in mapping node n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// plain drops the quotes from the string scalars directly inside n (a
// mapping's values or a list's items) when YAML would read them back as a
// number or a boolean; their text is unchanged.
func plain(n *yaml.Node) {
	if n == nil {
		return
	}
	start, step := 0, 1
	if n.Kind == yaml.MappingNode {
		start, step = 1, 2
	}
	for i := start; i < len(n.Content); i += step {
		c := n.Content[i]
		if c.Kind != yaml.ScalarNode || c.Tag != "!!str" {
			continue
		}
		probe := yaml.Node{Kind: yaml.ScalarNode, Value: c.Value}
		switch tag := probe.ShortTag(); tag {
		case "!!int", "!!float", "!!bool":
			// Only when YAML prints the value back exactly as written.
			var back yaml.Node
			if out, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: c.Value}); err == nil &&
				yaml.Unmarshal(out, &back) == nil && len(back.Content) == 1 && back.Content[0].Value == c.Value {
				c.Tag, c.Style = tag, 0
			}
		}
	}
}

// MarshalYAML writes a constant rate as a number and a ramp as
// {from, to}.
func (r Rate) MarshalYAML() (any, error) {
	if r.From == r.To {
		return r.From, nil
	}
	type ramp struct {
		From float64 `yaml:"from"`
		To   float64 `yaml:"to"`
	}
	return ramp(r), nil
}

// MarshalYAML writes the matrix as a mapping in parameter order.
func (m Matrix) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, p := range m {
		vals := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, v := range p.Values {
			vals.Content = append(vals.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p.Name}, vals)
	}
	return n, nil
}
