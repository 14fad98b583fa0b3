package runner

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/target"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// plan is one variant's target and load, resolved: ports picked and
// placeholders filled in.
type plan struct {
	spec    target.Spec
	builtin bool
	// url is a URL target: nothing is started, spec.ReadyURL and
	// spec.ReadyTimeout alone are used.
	url      bool
	before   []string // a URL target's before hook, placeholders filled in
	beforeTO time.Duration
	kind     string // "builtin", "command" or "url"
	baseURL  string
	adminURL string // builtin: the admin listener; "" otherwise
	metrics  []scenarios.MetricsSource
	// streams are the traffic streams, sent at the same time (one for a
	// scenario without streams); probes the health probes.
	streams []streamPlan
	probes  []probePlan
}

// expand fills the {{name}} placeholders of s from vars; an unknown name
// is an error naming the field.
func expand(s, field string, vars map[string]string) (string, error) {
	out, err := scenarios.Substitute(s, vars)
	if err != nil {
		return "", fmt.Errorf("%s: %w (known: %s)", field, err, strings.Join(slices.Sorted(maps.Keys(vars)), ", "))
	}
	return out, nil
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// compile resolves the target and load of one variant. It trusts a
// scenario from scenarios.Parse or Load: defaults applied (base and ready
// URLs, stop signal, methods, phase names) and values validated.
func compile(s *scenarios.Scenario, v scenarios.Variant, binary string) (*plan, error) {
	vars, err := portVars()
	if err != nil {
		return nil, err
	}
	p := &plan{}
	var trafficVars map[string]string
	switch {
	case s.Target.URL != nil:
		p.kind = "url"
		if trafficVars, err = p.compileURL(s.Target.URL, v); err != nil {
			return nil, err
		}
		vars = trafficVars
	case s.Target.Command != nil:
		p.kind = "command"
		if err := p.compileCommand(s, v, vars); err != nil {
			return nil, err
		}
	case s.Target.Builtin != nil:
		p.compileBuiltin(s, v, vars, binary)
	default:
		return nil, fmt.Errorf("target: want builtin, command or url")
	}
	for i, m := range s.Sample.Metrics {
		u, err := expand(m.URL, fmt.Sprintf("sample.metrics[%d].url", i), vars)
		if err != nil {
			return nil, err
		}
		p.metrics = append(p.metrics, scenarios.MetricsSource{URL: u, Names: m.Names})
	}
	if err := p.compileStreams(s, trafficVars); err != nil {
		return nil, err
	}
	p.compileProbes(s)
	return p, nil
}

// portVars picks two different free ports, for the target and its admin
// listener, and returns the placeholders naming them: port, admin_port
// and admin_url.
func portVars() (map[string]string, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	adminPort, err := freePort()
	for err == nil && adminPort == port {
		adminPort, err = freePort()
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"port":       strconv.Itoa(port),
		"admin_port": strconv.Itoa(adminPort),
		"admin_url":  "http://127.0.0.1:" + strconv.Itoa(adminPort),
	}, nil
}

// compileBuiltin resolves a builtin target: "binary serve" with the
// scenario's flags and the variant's set, on the ports of vars, to which
// it adds base_url.
func (p *plan) compileBuiltin(s *scenarios.Scenario, v scenarios.Variant, vars map[string]string, binary string) {
	p.kind = "builtin"
	p.builtin = true
	flags := maps.Clone(s.Target.Builtin)
	maps.Copy(flags, v.Set)
	delete(flags, "bind")
	delete(flags, "admin_bind")
	p.baseURL = "http://127.0.0.1:" + vars["port"]
	p.adminURL = vars["admin_url"]
	vars["base_url"] = p.baseURL
	p.spec = target.Spec{
		Argv:         append([]string{binary, "serve", "--bind=127.0.0.1:" + vars["port"], "--admin-bind=127.0.0.1:" + vars["admin_port"]}, scenarios.BuiltinArgs(flags)...),
		ReadyURL:     p.baseURL + "/healthz",
		ReadyTimeout: 30 * time.Second,
		StopSignal:   syscall.SIGTERM,
		Grace:        10 * time.Second,
	}
}

// compileCommand resolves a command target: its base URL, argv, env and
// dir, their placeholders filled in from vars (the ports), the command's
// vars and the variant's set, and then its life (compileCommandLife).
func (p *plan) compileCommand(s *scenarios.Scenario, v scenarios.Variant, vars map[string]string) error {
	c := s.Target.Command
	for k, val := range c.Vars {
		vars[k] = val
	}
	for k, val := range v.Set {
		vars[k] = val
	}
	var err error
	if p.baseURL, err = expand(c.BaseURL, "target.command.base_url", vars); err != nil {
		return err
	}
	p.baseURL = strings.TrimRight(p.baseURL, "/")
	vars["base_url"] = p.baseURL
	for i, a := range c.Argv {
		x, err := expand(a, fmt.Sprintf("target.command.argv[%d]", i), vars)
		if err != nil {
			return err
		}
		p.spec.Argv = append(p.spec.Argv, x)
	}
	if len(p.spec.Argv) == 0 {
		return fmt.Errorf("target.command.argv: want at least the program")
	}
	for _, k := range slices.Sorted(maps.Keys(c.Env)) {
		x, err := expand(c.Env[k], "target.command.env."+k, vars)
		if err != nil {
			return err
		}
		p.spec.Env = append(p.spec.Env, k+"="+x)
	}
	if p.spec.Dir, err = expand(c.Dir, "target.command.dir", vars); err != nil {
		return err
	}
	if p.spec.Dir != "" && !filepath.IsAbs(p.spec.Dir) && s.File != "" {
		p.spec.Dir = filepath.Join(filepath.Dir(s.File), p.spec.Dir)
	}
	return p.compileCommandLife(c, vars)
}

// compileCommandLife resolves how a command target's life is followed:
// its ready URL (relative to the base URL unless absolute), its stop
// signal and grace, and the log patterns of its events.
func (p *plan) compileCommandLife(c *scenarios.Command, vars map[string]string) error {
	ready, err := expand(c.Ready.URL, "target.command.ready.url", vars)
	if err != nil {
		return err
	}
	if !strings.Contains(ready, "://") {
		ready = p.baseURL + "/" + strings.TrimLeft(ready, "/")
	}
	p.spec.ReadyURL = ready
	p.spec.ReadyTimeout = c.Ready.Timeout.D()
	if p.spec.StopSignal, err = scenarios.Signal(c.Stop.Signal); err != nil {
		return fmt.Errorf("target.command.stop.signal: %w", err)
	}
	p.spec.Grace = c.Stop.Grace.D()
	for i, e := range c.Events {
		re, err := regexp.Compile(e.Pattern)
		if err != nil {
			return fmt.Errorf("target.command.events[%d].pattern: %w", i, err)
		}
		p.spec.Patterns = append(p.spec.Patterns, target.Pattern{Re: re, Event: e.Event, Reason: e.Reason})
	}
	return nil
}

// compileClasses resolves the request classes at field of scenario s.
// With vars (a URL target's), paths and header values have their
// placeholders filled in.
func (p *plan) compileClasses(s *scenarios.Scenario, field string, traffic []scenarios.RequestClass, vars map[string]string) ([]attack.Class, error) {
	var classes []attack.Class
	for i, rc := range traffic {
		method := rc.Method
		if method == "" {
			method = http.MethodGet
		}
		path := rc.Path
		if vars != nil {
			var err error
			if path, err = expand(path, fmt.Sprintf("%s[%d].path", field, i), vars); err != nil {
				return nil, err
			}
		}
		c := attack.Class{Name: rc.Name, Weight: rc.Weight, Method: rc.Method, URL: p.baseURL + "/" + strings.TrimLeft(path, "/")}
		if len(rc.Headers) > 0 {
			c.Header = http.Header{}
			for k, v := range rc.Headers {
				if vars != nil {
					var err error
					if v, err = expand(v, fmt.Sprintf("%s[%d].headers.%s", field, i, k), vars); err != nil {
						return nil, err
					}
				}
				c.Header.Set(k, v)
			}
		}
		switch {
		case rc.BodyFile != "":
			path := rc.BodyFile
			if !filepath.IsAbs(path) && s.File != "" {
				path = filepath.Join(filepath.Dir(s.File), path)
			}
			b, err := scenarios.ReadFile(path, scenarios.MaxBodySize)
			if err != nil {
				return nil, fmt.Errorf("%s[%d].body_file: %w", field, i, err)
			}
			c.Body = b
		case rc.Body != "":
			c.Body = []byte(rc.Body)
		}
		classes = append(classes, c)
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s: want at least one request class", field)
	}
	return classes, nil
}

// compileURL resolves a URL target: its base and ready URLs, and the
// values its traffic's placeholders take (its vars with the variant's
// set, and base_url).
func (p *plan) compileURL(u *scenarios.URLTarget, v scenarios.Variant) (map[string]string, error) {
	p.url = true
	p.baseURL = strings.TrimRight(u.BaseURL, "/")
	ready := u.Ready.URL
	if ready == "" {
		ready = "/"
	}
	if !strings.Contains(ready, "://") {
		ready = p.baseURL + "/" + strings.TrimLeft(ready, "/")
	}
	p.spec = target.Spec{ReadyURL: ready, ReadyTimeout: u.Ready.Timeout.D()}
	vars := maps.Clone(u.Vars)
	if vars == nil {
		vars = map[string]string{}
	}
	maps.Copy(vars, v.Set)
	vars["base_url"] = p.baseURL
	if h := u.Before; h != nil {
		for i, a := range h.Argv {
			x, err := expand(a, fmt.Sprintf("target.url.before.argv[%d]", i), vars)
			if err != nil {
				return nil, err
			}
			p.before = append(p.before, x)
		}
		p.beforeTO = h.Timeout.D()
	}
	return vars, nil
}
