package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Default values filled in by Parse.
const (
	DefaultMethod       = "GET"
	DefaultInterval     = Duration(250e6)
	DefaultBaseURL      = "http://127.0.0.1:{{port}}"
	DefaultReadyURL     = "/"
	DefaultReadyTimeout = Duration(30e9)
	DefaultStopSignal   = "TERM"
	DefaultStopGrace    = Duration(10e9)
	// DefaultMetricsURL is scraped for built-in targets when the scenario
	// names no metrics source.
	DefaultMetricsURL = "{{admin_url}}/metrics"
	// LoopLagMetric is the built-in server's loop-lag histogram.
	LoopLagMetric = "sawtooth_loop_lag_seconds"
)

// maxSize bounds a scenario file.
const maxSize = 4 << 20

// Parse parses, validates and fills in the defaults of a scenario. file
// names the source in errors and becomes Scenario.File. A
// *ValidationError lists every problem found. Parse reads no files: Load
// also checks the files a scenario names (body_file, a command's dir).
func Parse(data []byte, file string) (*Scenario, error) {
	return parse(data, file, nil)
}

// parse is Parse; with files set it also checks the files the scenario
// names, relative to *files.
func parse(data []byte, file string, files *string) (*Scenario, error) {
	name := file
	if name == "" {
		name = "scenario"
	}
	d := newDecoder(name)
	if len(data) > maxSize {
		d.add(position{}, "", "file too large (%d bytes, at most %d)", len(data), maxSize)
		return nil, d.err()
	}
	root, err := parseNode(data)
	if err != nil {
		fe := syntaxError(name, err)
		locate(fe, data)
		d.errs = append(d.errs, fe)
		return nil, d.err()
	}
	if root == nil {
		d.add(position{1, 1}, "", "empty scenario, want a mapping with fields name, target, traffic, phases")
		return nil, d.err()
	}
	s := &Scenario{}
	d.decode(root, reflect.ValueOf(s).Elem(), "")
	if d.tooBig {
		return nil, d.err()
	}
	s.File = file
	if _, given := d.pos["repeat"]; given && s.Repeat < 1 {
		d.add(d.at("repeat"), "repeat", "got %d, want an integer from 1 to %d", s.Repeat, MaxRepeat)
	}
	// The client block is checked before its defaults fill it in, so that
	// an explicit "timeout: 0s" is an error, not the default.
	validateClient(&s.Client, "client", d, func(path, format string, args ...any) { d.add(d.at(path), path, format, args...) })
	s.applyDefaults()
	s.validate(d)
	at := func(path, format string, args ...any) { d.add(d.at(path), path, format, args...) }
	if len(d.errs) == 0 {
		for _, e := range s.loopFlagErrors() {
			at(e.path, "%s", e.msg)
		}
	}
	if files != nil {
		s.checkFiles(*files, at)
	}
	if err := d.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseNode parses exactly one YAML document into its root node (nil for
// an empty document).
func parseNode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: a second document, want one scenario per file", extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil, nil
	}
	return root, nil
}

// applyDefaults fills in every field left empty that has a default.
func (s *Scenario) applyDefaults() {
	if s.Repeat == 0 {
		s.Repeat = 1
	}
	for i := range s.Traffic {
		if s.Traffic[i].Method == "" {
			s.Traffic[i].Method = DefaultMethod
		}
	}
	for i := range s.Phases {
		if s.Phases[i].Name == "" {
			s.Phases[i].Name = fmt.Sprintf("phase %d", i+1)
		}
	}
	s.streamDefaults()
	s.probeDefaults()
	if s.Sample.Interval == 0 {
		s.Sample.Interval = DefaultInterval
	}
	s.applyClientDefaults()
	if c := s.Target.Command; c != nil {
		if c.BaseURL == "" {
			c.BaseURL = DefaultBaseURL
		}
		if c.Ready.URL == "" {
			c.Ready.URL = DefaultReadyURL
		}
		if c.Ready.Timeout == 0 {
			c.Ready.Timeout = DefaultReadyTimeout
		}
		if c.Stop.Signal == "" {
			c.Stop.Signal = DefaultStopSignal
		}
		if c.Stop.Grace == 0 {
			c.Stop.Grace = DefaultStopGrace
		}
	}
	s.applyURLDefaults()
	if s.Target.Builtin != nil && s.Target.Command == nil && s.Target.URL == nil && len(s.Sample.Metrics) == 0 {
		s.Sample.Metrics = []MetricsSource{{URL: DefaultMetricsURL, Names: []string{LoopLagMetric}}}
	}
}
