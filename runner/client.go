package runner

import (
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// clientConfig resolves the client model of variant v: the scenario's
// client block, the variant's overrides, then timeout (sawtooth run
// --timeout) when > 0; a traffic class's own timeout wins over both.
func clientConfig(s *scenarios.Scenario, v scenarios.Variant, timeout time.Duration) attack.ClientConfig {
	c := s.ClientFor(v)
	cfg := attack.ClientConfig{
		Retry:       scenarios.Bool(c.Retry, true),
		KeepAlive:   scenarios.Bool(c.KeepAlive, true),
		Connections: c.Connections,
		Timeout:     c.Timeout.D(),
		MaxBody:     int64(scenarios.DefaultMaxBody),
		HTTP2:       scenarios.Bool(c.HTTP2, false),
	}
	if c.MaxBody != nil {
		cfg.MaxBody = int64(*c.MaxBody)
	}
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	for _, st := range s.StreamList() {
		for _, rc := range st.Traffic {
			if rc.Timeout > 0 {
				if cfg.ClassTimeouts == nil {
					cfg.ClassTimeouts = map[string]time.Duration{}
				}
				cfg.ClassTimeouts[rc.Name] = rc.Timeout.D()
			}
		}
	}
	return cfg
}

// clientInfo is cfg as run.json records it.
func clientInfo(cfg attack.ClientConfig) *rundir.ClientInfo {
	ci := &rundir.ClientInfo{Retry: cfg.Retry, KeepAlive: cfg.KeepAlive, Connections: cfg.Connections,
		Timeout: cfg.Timeout.Seconds(), MaxBody: cfg.MaxBody, HTTP2: cfg.HTTP2}
	for name, d := range cfg.ClassTimeouts {
		if ci.ClassTimeouts == nil {
			ci.ClassTimeouts = map[string]float64{}
		}
		ci.ClassTimeouts[name] = d.Seconds()
	}
	return ci
}
