package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes the decoder visits, so a document that expands
// aliases exponentially ("billion laughs") is rejected instead of
// exhausting memory.
const maxNodes = 100000

var (
	durationType  = reflect.TypeOf(Duration(0))
	rateType      = reflect.TypeOf(Rate{})
	matrixType    = reflect.TypeOf(Matrix(nil))
	thresholdType = reflect.TypeOf(Threshold{})
	byteLimitType = reflect.TypeOf(ByteLimit(0))
)

// decoder turns a YAML node tree into a Scenario, recording the position of
// every value by field path and collecting every error on the way.
type decoder struct {
	errorList
	pos     map[string]position
	nodes   int
	tooBig  bool
	aliases int
}

func newDecoder(file string) *decoder {
	return &decoder{errorList: errorList{file: file}, pos: map[string]position{}}
}

func nodePos(n *yaml.Node) position { return position{n.Line, n.Column} }

// at returns the position recorded for path or, failing that, for its
// nearest recorded parent.
func (d *decoder) at(path string) position {
	for {
		if p, ok := d.pos[path]; ok {
			return p
		}
		if path == "" {
			return position{}
		}
		path = parentPath(path)
	}
}

// parentPath strips the last element of a field path: "a.b[2]" → "a.b",
// "a.b" → "a", "a" → "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// resolve follows aliases and counts nodes; it returns nil when the
// document is too large.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.nodes++
	if d.nodes > maxNodes {
		if !d.tooBig {
			d.tooBig = true
			d.add(nodePos(n), "", "document too large (more than %d values after expanding aliases)", maxNodes)
		}
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// kindName describes a node's kind for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unexpected value"
}

// yamlFields lists a struct's fields by YAML name, skipping "-".
type fieldInfo struct {
	name     string
	index    int
	required bool
}

func yamlFields(t reflect.Type) []fieldInfo {
	var fs []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || name == "" {
			continue
		}
		fs = append(fs, fieldInfo{name: name, index: i, required: !strings.Contains(opts, "omitempty")})
	}
	return fs
}

// want describes what a value of type t looks like in YAML.
func want(t reflect.Type) string {
	switch t {
	case durationType:
		return "a duration such as 250ms, 5s or 2m"
	case rateType, reflect.PointerTo(rateType):
		return "a rate in requests per second (e.g. 200) or a ramp {from: 50, to: 400}"
	case matrixType:
		return "a mapping of parameter names to lists of values"
	case thresholdType:
		return `a threshold such as "light.p99 < 50ms"`
	case byteLimitType:
		return "a size such as 4KiB, a number of bytes, or -1 for no limit"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.Struct:
		names := []string{}
		for _, f := range yamlFields(t) {
			names = append(names, f.name)
		}
		return "a mapping with fields " + strings.Join(names, ", ")
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a mapping of names to values"
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	}
	return t.String()
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n = d.resolve(n); n == nil {
		return
	}
	d.pos[path] = nodePos(n)
	if d.decodeNamed(n, v, path) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Map:
		d.decodeStringMap(n, v, path)
	case reflect.String, reflect.Int, reflect.Float64, reflect.Bool:
		d.decodeScalar(n, v, path)
	default:
		panic("scenarios: cannot decode into " + v.Type().String())
	}
}

// decodeNamed decodes into the types with their own syntax (durations,
// rates, the matrix, thresholds, byte limits) and reports whether v was
// one of them.
func (d *decoder) decodeNamed(n *yaml.Node, v reflect.Value, path string) bool {
	switch v.Type() {
	case durationType:
		d.decodeDuration(n, v, path)
	case rateType:
		d.decodeRate(n, v, path)
	case matrixType:
		d.decodeMatrix(n, v, path)
	case thresholdType:
		d.decodeThreshold(n, v, path)
	case byteLimitType:
		if _, ok := d.scalar(n, path, want(byteLimitType)); ok {
			if err := v.Addr().Interface().(*ByteLimit).decodeScalar(n); err != nil {
				d.add(nodePos(n), path, "%v", err)
			}
		}
	default:
		return false
	}
	return true
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.add(nodePos(n), path, "got %s, want %s", kindName(n), want(v.Type()))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.decode(c, s.Index(i), index(path, i))
	}
	v.Set(s)
}

// decodeScalar decodes a string, an int, a finite float64 or a bool.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		if s, ok := d.scalar(n, path, want(v.Type())); ok {
			v.SetString(s)
		}
	case reflect.Int:
		if _, ok := d.scalar(n, path, "an integer"); !ok {
			return
		}
		var i int
		if n.Tag != "!!int" || n.Decode(&i) != nil {
			d.add(nodePos(n), path, "got %s, want an integer", kindName(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		if _, ok := d.scalar(n, path, "a number"); !ok {
			return
		}
		var f float64
		if (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || !finite(f) {
			d.add(nodePos(n), path, "got %s, want a finite number", kindName(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if _, ok := d.scalar(n, path, "true or false"); !ok {
			return
		}
		if n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.add(nodePos(n), path, "got %s, want true or false", kindName(n))
			return
		}
		v.SetBool(b)
	}
}

// finite reports whether f is neither NaN nor ±Inf. Every number a
// scenario gives must be finite: comparisons with NaN are all false, so a
// NaN would slip past every range check.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// scalar returns a scalar node's text, or reports that one was expected.
func (d *decoder) scalar(n *yaml.Node, path, wanted string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.add(nodePos(n), path, "got %s, want %s", kindName(n), wanted)
		return "", false
	}
	return n.Value, true
}

// pairs iterates a mapping node's key/value pairs, reporting non-scalar and
// duplicate keys.
func (d *decoder) pairs(n *yaml.Node, path string, f func(key string, kn, vn *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn = d.resolve(kn); kn == nil {
			return
		}
		if kn.Kind != yaml.ScalarNode || isNull(kn) {
			d.add(nodePos(kn), path, "got %s as a key, want a name", kindName(kn))
			continue
		}
		if seen[kn.Value] {
			d.add(nodePos(kn), join(path, kn.Value), "given twice, want each key once")
			continue
		}
		seen[kn.Value] = true
		f(kn.Value, kn, vn)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	fields := yamlFields(v.Type())
	if n.Kind != yaml.MappingNode {
		d.add(nodePos(n), path, "got %s, want %s", kindName(n), want(v.Type()))
		return
	}
	given := map[string]bool{}
	d.pairs(n, path, func(key string, kn, vn *yaml.Node) {
		for _, f := range fields {
			if f.name == key {
				if !isNull(vn) {
					given[key] = true
				}
				d.decode(vn, v.Field(f.index), join(path, key))
				return
			}
		}
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.name
		}
		d.add(nodePos(kn), join(path, key), "unknown field, want one of %s", strings.Join(names, ", "))
	})
	for _, f := range fields {
		if f.required && !given[f.name] {
			d.add(nodePos(n), join(path, f.name), "missing, want %s", want(v.Type().Field(f.index).Type))
		}
	}
}

func (d *decoder) decodeStringMap(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(nodePos(n), path, "got %s, want a mapping of names to values", kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	d.pairs(n, path, func(key string, kn, vn *yaml.Node) {
		p := join(path, key)
		if vn = d.resolve(vn); vn == nil {
			return
		}
		d.pos[p] = nodePos(vn)
		if vn.Kind != yaml.ScalarNode {
			d.add(nodePos(vn), p, "got %s, want a single value", kindName(vn))
			return
		}
		if isNull(vn) {
			d.add(nodePos(vn), p, "got nothing, want a value")
			return
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if e.Kind() == reflect.String {
			e.SetString(vn.Value)
		} else {
			d.decode(vn, e, p)
		}
		m.SetMapIndex(reflect.ValueOf(key), e)
	})
	v.Set(m)
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, want(durationType))
	if !ok {
		return
	}
	dur, err := parseDuration(s)
	if err != nil {
		d.add(nodePos(n), path, "got %q, want %s (not negative)", s, want(durationType))
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeRate(n *yaml.Node, v reflect.Value, path string) {
	r := Rate{}
	switch n.Kind {
	case yaml.ScalarNode:
		var f float64
		if (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil || !finite(f) {
			d.add(nodePos(n), path, "got %s, want %s", kindName(n), want(rateType))
			return
		}
		r.From, r.To = f, f
	case yaml.MappingNode:
		type ramp struct {
			From float64 `yaml:"from"`
			To   float64 `yaml:"to"`
		}
		var rp ramp
		d.decodeStruct(n, reflect.ValueOf(&rp).Elem(), path)
		r.From, r.To = rp.From, rp.To
	default:
		d.add(nodePos(n), path, "got %s, want %s", kindName(n), want(rateType))
		return
	}
	v.Set(reflect.ValueOf(r))
}

func (d *decoder) decodeMatrix(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(nodePos(n), path, "got %s, want %s", kindName(n), want(matrixType))
		return
	}
	var m Matrix
	d.pairs(n, path, func(key string, kn, vn *yaml.Node) {
		p := join(path, key)
		if vn = d.resolve(vn); vn == nil {
			return
		}
		d.pos[p] = nodePos(vn)
		if vn.Kind != yaml.SequenceNode {
			d.add(nodePos(vn), p, "got %s, want a list of values such as [0, 100, 500]", kindName(vn))
			return
		}
		param := MatrixParam{Name: key}
		for i, c := range vn.Content {
			ip := index(p, i)
			if c = d.resolve(c); c == nil {
				return
			}
			d.pos[ip] = nodePos(c)
			if s, ok := d.scalar(c, ip, "a single value"); ok {
				param.Values = append(param.Values, s)
			}
		}
		m = append(m, param)
	})
	v.Set(reflect.ValueOf(m))
}

func (d *decoder) decodeThreshold(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, want(thresholdType))
	if !ok {
		return
	}
	t, err := ParseThreshold(s)
	if err != nil {
		d.add(nodePos(n), path, "%v", err)
		return
	}
	t.Line, t.Column = n.Line, n.Column
	v.Set(reflect.ValueOf(t))
}

// parseDuration parses a non-negative Go duration; a plain 0 is allowed.
func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return Duration(d), nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into a FieldError with its line.
func syntaxError(file string, err error) *FieldError {
	msg := err.Error()
	fe := &FieldError{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Msg = "invalid YAML: " + m[2]
		// yaml.v3 numbers parser errors ("did not find expected ...") by
		// the 0-based line of the block being parsed; scanner errors are
		// already 1-based.
		if strings.HasPrefix(m[2], "did not find expected") {
			fe.Line++
			fe.Msg += " (in the block starting on this line)"
		}
	}
	return fe
}
