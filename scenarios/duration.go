package scenarios

import (
	"encoding/json"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// String formats d compactly: "250ms", "5s", "2m", "1h30m".
func (d Duration) String() string {
	t := time.Duration(d)
	switch {
	case t == 0:
		return "0s"
	case t%time.Hour == 0:
		return fmt.Sprintf("%dh", t/time.Hour)
	case t%time.Minute == 0:
		return fmt.Sprintf("%dm", t/time.Minute)
	case t%time.Second == 0:
		return fmt.Sprintf("%ds", t/time.Second)
	case t%time.Millisecond == 0 && t < time.Second:
		return fmt.Sprintf("%dms", t/time.Millisecond)
	}
	return t.String()
}

// MarshalYAML writes d as a string such as "250ms".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration such as "250ms".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := parseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: bad duration %q: want e.g. 250ms or 5s", n.Line, s)
	}
	*d = v
	return nil
}

// MarshalJSON writes d as a string such as "250ms".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration such as "250ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"250ms\": %w", err)
	}
	v, err := parseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q: want e.g. 250ms or 5s", s)
	}
	*d = v
	return nil
}
