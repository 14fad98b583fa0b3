package scenarios

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Limits on scenario values, so a typo cannot start an absurd run.
const (
	MaxRate        = 1_000_000 // requests per second
	MaxConcurrency = 10_000
	MaxRepeat      = 1000
	MaxPhase       = 7 * 24 * time.Hour
	MinInterval    = 10 * time.Millisecond
	MaxInterval    = time.Minute
)

var (
	classNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	variantNameRE = regexp.MustCompile(`^[A-Za-z0-9_.,=+-]+$`)
	varNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	eventNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
	headerNameRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	promNameRE    = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// commandPlaceholders are the placeholders the runner defines for every
// command target.
func commandPlaceholders() []string { return []string{"port", "admin_port", "base_url"} }

// builtinPlaceholders are those defined for the built-in server's metrics
// URLs.
func builtinPlaceholders() []string { return []string{"port", "admin_port", "base_url", "admin_url"} }

// reservedVars may not be command variables.
func reservedVars() []string {
	return []string{"port", "admin_port", "base_url", "admin_url", "repeat"}
}

// eventGroups are the named groups a log pattern may have.
func eventGroups() []string { return []string{"pid", "reason", "requests"} }

// methods are the HTTP methods a request class may use.
func methods() []string {
	return []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions}
}

// signals maps the stop signal names a scenario may use to their numbers.
func signals() map[string]syscall.Signal {
	return map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "HUP": syscall.SIGHUP,
		"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	}
}

// Signal returns the signal named by a Stop.Signal value such as "TERM" or
// "SIGINT".
func Signal(name string) (syscall.Signal, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
	if sig, ok := signals()[n]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q, want one of TERM, INT, QUIT, HUP, KILL, USR1, USR2", name)
}

// validate checks everything the types cannot, reporting at the positions d
// recorded.
func (s *Scenario) validate(d *decoder) {
	at := func(path, format string, args ...any) { d.add(d.at(path), path, format, args...) }

	if strings.TrimSpace(s.Name) == "" {
		if _, given := d.pos["name"]; given {
			at("name", "empty, want a short name for the scenario")
		}
	}
	if s.Repeat < 1 || s.Repeat > MaxRepeat {
		at("repeat", "got %d, want an integer from 1 to %d", s.Repeat, MaxRepeat)
	}
	s.validateTarget(d, at)

	// Traffic and phases: one stream, or several.
	seen := map[string]bool{}
	s.validateStreams(d, at, seen)
	if len(s.Streams) == 0 {
		validateClasses(d, at, "traffic", s.Traffic, seen)
		validatePhases(d, at, "phases", s.Phases, s.Traffic)
	}

	// Sample.
	if iv := s.Sample.Interval.D(); iv < MinInterval || iv > MaxInterval {
		at("sample.interval", "got %v, want a duration from %v to %v", s.Sample.Interval, Duration(MinInterval), Duration(MaxInterval))
	}
	validateWarmup(s, at)
	validatePlan(s, at)
	s.validateMetrics(d, at)

	s.validateVariants(d, at)
	s.validateProbes(d, at, seen)
	s.validateThresholds(at)
}

// validateTarget checks the target: exactly one of builtin, command and
// url, each valid, and the Prometheus source. A "builtin:" given alone
// becomes an empty map (all defaults).
func (s *Scenario) validateTarget(d *decoder, at func(string, string, ...any)) {
	t := s.Target
	_, hasBuiltin := d.pos["target.builtin"]
	hasBuiltin = hasBuiltin || t.Builtin != nil
	if hasBuiltin && t.Builtin == nil {
		s.Target.Builtin = map[string]string{} // "builtin:" alone: all defaults
		t = s.Target
	}
	var kinds []string
	for _, k := range []struct {
		name  string
		given bool
	}{{"builtin", hasBuiltin}, {"command", t.Command != nil}, {"url", t.URL != nil}} {
		if k.given {
			kinds = append(kinds, k.name)
		}
	}
	switch {
	case len(kinds) > 1:
		at("target", "both %s given, want exactly one of builtin, command and url", strings.Join(kinds, " and "))
	case len(kinds) == 0:
		if _, given := d.pos["target"]; given {
			at("target", "neither builtin nor command nor url given, want exactly one")
		}
	}
	given := func(path string) bool { _, ok := d.pos[path]; return ok }
	if u := t.URL; u != nil {
		s.validateURLTarget(u, given, at)
	}
	if ps := s.Sample.Prometheus; ps != nil {
		s.validatePrometheus(ps, given, at)
	}
	for _, k := range sortedKeys(t.Builtin) {
		if err := CheckBuiltinFlag(k, t.Builtin[k]); err != nil {
			at("target.builtin."+k, "%v", err)
		}
	}
	if c := t.Command; c != nil {
		s.validateCommand(c, at)
	}
}

// validateMetrics checks sample.metrics: each given url an http URL using
// only the target's placeholders, each name a Prometheus metric name.
func (s *Scenario) validateMetrics(d *decoder, at func(string, string, ...any)) {
	t := s.Target
	places := builtinPlaceholders()
	if t.Command != nil {
		places = append(slices.Clone(commandPlaceholders()), sortedKeys(t.Command.Vars)...)
	}
	if t.URL != nil {
		places = append(urlPlaceholders(), sortedKeys(t.URL.Vars)...)
	}
	for i, m := range s.Sample.Metrics {
		p := index("sample.metrics", i)
		if _, given := d.pos[p+".url"]; given {
			if strings.HasPrefix(m.URL, "/") {
				at(p+".url", "got %q, want an http URL such as {{base_url}}/metrics or {{admin_url}}/metrics", m.URL)
			} else {
				s.checkURL(p+".url", m.URL, places, at)
			}
		}
		for j, n := range m.Names {
			if !promNameRE.MatchString(n) {
				at(index(p+".names", j), "got %q, want a Prometheus metric name", n)
			}
		}
	}
}

// validateThresholds checks that every threshold's metric is known to the
// scenario (its classes, probes and metrics sources).
func (s *Scenario) validateThresholds(at func(string, string, ...any)) {
	classes := s.ClassNames()
	for i, th := range s.Thresholds {
		p := index("thresholds", i)
		if th.Metric == "" {
			continue // did not parse; already reported
		}
		if isProbeMetric(th.Metric) {
			if err := s.knownProbeMetric(th.Metric); err != nil {
				at(p, "%v", err)
			}
		} else if err := KnownMetric(th.Metric, classes); err != nil {
			at(p, "%v", err)
		} else if th.Metric == "lag.p99" && len(s.Sample.Metrics) == 0 {
			at(p, "lag.p99 needs a metrics source scraping the loop-lag histogram, want an entry in sample.metrics")
		}
	}
}

// allPauses reports whether every phase is open-model at rate 0.
func allPauses(phases []Phase) bool {
	for _, ph := range phases {
		if ph.Rate == nil || ph.Rate.From > 0 || ph.Rate.To > 0 {
			return false
		}
	}
	return true
}

func (s *Scenario) validateCommand(c *Command, at func(string, string, ...any)) {
	const p = "target.command"
	if len(c.Argv) == 0 {
		at(p+".argv", "empty, want the program and its arguments, e.g. [/usr/bin/gunicorn, -b, 127.0.0.1:{{port}}, app:app]")
	} else if strings.TrimSpace(c.Argv[0]) == "" {
		at(p+".argv[0]", "empty program name, want a path such as /usr/bin/gunicorn")
	}
	for _, k := range sortedKeys(c.Vars) {
		if !varNameRE.MatchString(k) || slices.Contains(reservedVars(), k) {
			at(p+".vars."+k, "bad variable name %q, want letters, digits and _ not starting with a digit, and not one of %s", k, strings.Join(reservedVars(), ", "))
		}
	}
	names := append(slices.Clone(commandPlaceholders()), sortedKeys(c.Vars)...)
	for i, a := range c.Argv {
		s.checkPlaceholders(index(p+".argv", i), a, names, at)
	}
	for _, k := range sortedKeys(c.Env) {
		s.checkPlaceholders(p+".env."+k, c.Env[k], names, at)
		if k == "" || strings.ContainsAny(k, "=\x00") {
			at(p+".env."+k, "bad environment variable name %q", k)
		}
	}
	s.checkPlaceholders(p+".dir", c.Dir, names, at)
	noBase := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "base_url" })
	if s.checkPlaceholders(p+".base_url", c.BaseURL, noBase, at) {
		if u, err := url.Parse(placeholderRE.ReplaceAllString(c.BaseURL, "1")); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			at(p+".base_url", "got %q, want an http URL such as http://127.0.0.1:{{port}}", c.BaseURL)
		}
	}
	s.checkURL(p+".ready.url", c.Ready.URL, names, at)
	if c.Ready.Timeout.D() > time.Hour {
		at(p+".ready.timeout", "got %v, want at most 1h", c.Ready.Timeout)
	}
	if sig, err := Signal(c.Stop.Signal); err != nil {
		at(p+".stop.signal", "%v", err)
	} else {
		for name, n := range signals() {
			if n == sig {
				c.Stop.Signal = name
			}
		}
	}
	if c.Stop.Grace.D() > time.Hour {
		at(p+".stop.grace", "got %v, want at most 1h", c.Stop.Grace)
	}
	validateEvents(p+".events", c.Events, at)
}

// validateEvents checks a command's log patterns: each pattern a regular
// expression with only the groups pid, reason and requests, each event a
// word.
func validateEvents(path string, events []LogPattern, at func(string, string, ...any)) {
	for i, e := range events {
		ep := index(path, i)
		if e.Pattern != "" {
			re, err := regexp.Compile(e.Pattern)
			if err != nil {
				at(ep+".pattern", "bad regular expression: %v", err)
			} else {
				for _, g := range re.SubexpNames() {
					if g != "" && !slices.Contains(eventGroups(), g) {
						at(ep+".pattern", "named group %q, want only groups named pid, reason or requests", g)
					}
				}
			}
		}
		if e.Event != "" && !eventNameRE.MatchString(e.Event) {
			at(ep+".event", "got %q, want a word such as spawn, exit or retiring", e.Event)
		}
	}
}

// checkPlaceholders reports placeholders in text that are not among names,
// and unbalanced braces; it returns whether text was fine.
func (s *Scenario) checkPlaceholders(path, text string, names []string, at func(string, string, ...any)) bool {
	ok := true
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(names, m[1]) {
			at(path, "undefined placeholder {{%s}}, want one of %s (a command's or url target's vars define more)", m[1], placeholderList(names))
			ok = false
		}
	}
	if rest := placeholderRE.ReplaceAllString(text, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		at(path, "unbalanced {{ or }} in %q, want placeholders written {{name}}", text)
		ok = false
	}
	return ok
}

// checkURL checks a URL that is either a path (relative to the base URL)
// or an absolute http URL, possibly with placeholders.
func (s *Scenario) checkURL(path, text string, names []string, at func(string, string, ...any)) {
	if !s.checkPlaceholders(path, text, names, at) {
		return
	}
	if strings.HasPrefix(text, "/") {
		return
	}
	u, err := url.Parse(placeholderRE.ReplaceAllString(text, "1"))
	if strings.HasPrefix(text, "{{") {
		u, err = url.Parse("http://h" + placeholderRE.ReplaceAllString(text, ""))
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		at(path, "got %q, want a path starting with / or an http URL", text)
	}
}

func placeholderList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "{{" + n + "}}"
	}
	return strings.Join(out, ", ")
}

// settable returns the names a variant, matrix or --set may override, and a
// function that checks a value for one.
func (s *Scenario) settable() (names []string, check func(name, value string) error) {
	if u := s.Target.URL; u != nil {
		return urlSettable(u)
	}
	if c := s.Target.Command; c != nil {
		return sortedKeys(c.Vars), func(name, _ string) error {
			if _, ok := c.Vars[name]; !ok {
				if len(c.Vars) == 0 {
					return fmt.Errorf("%q is not a variable of the command, which defines none (want a key of target.command.vars)", name)
				}
				return fmt.Errorf("%q is not a variable of the command, want one of %s", name, strings.Join(sortedKeys(c.Vars), ", "))
			}
			return nil
		}
	}
	return BuiltinFlags(), CheckBuiltinFlag
}

func (s *Scenario) validateVariants(d *decoder, at func(string, string, ...any)) {
	if len(s.Variants) > 0 && len(s.Matrix) > 0 {
		at("matrix", "both variants and matrix given, want one of them")
	}
	_, check := s.settable()
	seen := map[string]bool{}
	for i, v := range s.Variants {
		p := index("variants", i)
		switch {
		case v.Name == "":
		case !variantNameRE.MatchString(v.Name) || len(v.Name) > 100:
			at(p+".name", "got %q, want up to 100 letters, digits and _ . , = + - (it names a directory)", v.Name)
		case seen[v.Name]:
			at(p+".name", "duplicate variant name %q, want each variant once", v.Name)
		}
		seen[v.Name] = true
		validateClient(v.Client, p+".client", d, at)
		for _, k := range sortedKeys(v.Set) {
			if err := check(k, v.Set[k]); err != nil {
				at(p+".set."+k, "%v", err)
			}
		}
	}
	n := 1
	for _, m := range s.Matrix {
		p := "matrix." + m.Name
		if len(m.Values) == 0 {
			at(p, "empty, want a list of values to sweep")
		}
		vals := map[string]bool{}
		for j, val := range m.Values {
			if err := check(m.Name, val); err != nil {
				at(index(p, j), "%v", err)
				break
			}
			if !variantNameRE.MatchString(val) {
				at(index(p, j), "got %q, want a value of letters, digits and _ . + - (it is part of a variant name)", val)
			}
			if vals[val] {
				at(index(p, j), "duplicate value %q, want each value once", val)
			}
			vals[val] = true
		}
		n *= max(1, len(m.Values))
	}
	if n > 1000 {
		at("matrix", "%d combinations, want at most 1000", n)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// validateClasses checks the request classes at path; seen holds the
// class names of every stream, which must differ.
func validateClasses(d *decoder, at func(string, string, ...any), path string, classes []RequestClass, seen map[string]bool) {
	if len(classes) == 0 {
		if _, given := d.pos[path]; given {
			at(path, "empty, want at least one request class")
		}
	}
	for i, c := range classes {
		p := index(path, i)
		switch {
		case c.Name == "":
		case !classNameRE.MatchString(c.Name):
			at(p+".name", "got %q, want letters, digits, _ and - only (the name is used in metric names such as %s.p99)", c.Name, "NAME")
		case slices.Contains(reservedClassNames(), c.Name):
			at(p+".name", "%q is reserved for metrics, want another name (reserved: %s)", c.Name, strings.Join(reservedClassNames(), ", "))
		case seen[c.Name]:
			at(p+".name", "duplicate class name %q, want each class once", c.Name)
		}
		seen[c.Name] = true
		if _, given := d.pos[p+".weight"]; given && !(c.Weight > 0) {
			at(p+".weight", "got %v, want a number > 0", c.Weight)
		}
		if !slices.Contains(methods(), c.Method) {
			at(p+".method", "got %q, want one of %s", c.Method, strings.Join(methods(), ", "))
		}
		if _, given := d.pos[p+".path"]; given {
			if u, err := url.ParseRequestURI(placeholderRE.ReplaceAllString(c.Path, "1")); err != nil || !strings.HasPrefix(c.Path, "/") || u.Host != "" {
				at(p+".path", "got %q, want a path and query relative to the base URL, starting with / (e.g. /cpu?ms=20)", c.Path)
			}
		}
		for _, h := range sortedKeys(c.Headers) {
			if !headerNameRE.MatchString(h) {
				at(p+".headers."+h, "bad header name %q, want a token such as X-Request-Id", h)
			}
			if strings.ContainsAny(c.Headers[h], "\r\n") {
				at(p+".headers."+h, "header value contains a line break, want one line")
			}
		}
		if c.Body != "" && c.BodyFile != "" {
			at(p+".body_file", "both body and body_file given, want at most one")
		}
		validateClassTimeout(c, p, d, at)
	}
}

// validatePhases checks the phases at path; a phase's mix names classes
// of its own stream, classes.
func validatePhases(d *decoder, at func(string, string, ...any), path string, phases []Phase, classes []RequestClass) {
	if len(phases) == 0 {
		if _, given := d.pos[path]; given {
			at(path, "empty, want at least one phase")
		}
	}
	for i, ph := range phases {
		p := index(path, i)
		if _, given := d.pos[p+".duration"]; given && (ph.Duration <= 0 || ph.Duration.D() > MaxPhase) {
			at(p+".duration", "got %v, want a duration > 0 and at most %v", ph.Duration, Duration(MaxPhase))
		}
		hasRate := ph.Rate != nil
		_, hasConc := d.pos[p+".concurrency"]
		switch {
		case d.has(p + ".rate"):
			// A rate that did not decode is already reported.
		case hasRate && hasConc:
			at(p+".concurrency", "both rate and concurrency given, want one: rate (open model) or concurrency (closed model)")
		case !hasRate && !hasConc:
			at(p, "neither rate nor concurrency given, want rate (requests/s, open model) or concurrency (clients, closed model)")
		case hasRate:
			r := ph.Rate
			if !(r.From >= 0 && r.To >= 0 && r.From <= MaxRate && r.To <= MaxRate) {
				at(p+".rate", "got from %v to %v, want rates from 0 to %d requests/s (0 is a pause)", r.From, r.To, MaxRate)
			}
		case hasConc:
			if ph.Concurrency < 1 || ph.Concurrency > MaxConcurrency {
				at(p+".concurrency", "got %d, want an integer from 1 to %d", ph.Concurrency, MaxConcurrency)
			}
		}
		validateMix(classes, ph, p, at)
	}

	if len(phases) > 0 && !d.has(path) && allPauses(phases) {
		at(path, "every phase is a pause (rate 0), want at least one that sends requests")
	}
}
