package scenarios

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"testing"
)

// schemaDef is the part of a JSON Schema definition the test reads.
type schemaDef struct {
	Type                 any                        `json:"type"`
	Ref                  string                     `json:"$ref"`
	Required             []string                   `json:"required"`
	AdditionalProperties any                        `json:"additionalProperties"`
	Properties           map[string]json.RawMessage `json:"properties"`
	Items                *schemaDef                 `json:"items"`
}

func loadSchema(t *testing.T) (root schemaDef, defs map[string]schemaDef) {
	t.Helper()
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		schemaDef
		Defs map[string]schemaDef `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	return doc.schemaDef, doc.Defs
}

// TestSchemaMatchesTypes checks schema.json against the Go types: every
// struct the loader decodes has a definition of the same name whose
// properties are exactly its YAML fields, whose required list is exactly
// the fields without omitempty, and which rejects other properties; every
// field of struct type refers to that struct's definition.
func TestSchemaMatchesTypes(t *testing.T) {
	root, defs := loadSchema(t)
	if root.Ref != "#/$defs/Scenario" {
		t.Errorf("root $ref = %q", root.Ref)
	}
	special := map[reflect.Type]string{durationType: "Duration", rateType: "Rate", matrixType: "Matrix", thresholdType: "Threshold", byteLimitType: "ByteLimit"}
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		def, ok := defs[typ.Name()]
		if !ok {
			t.Errorf("schema has no definition %s", typ.Name())
			return
		}
		if def.AdditionalProperties != false {
			t.Errorf("%s: additionalProperties = %v, want false", typ.Name(), def.AdditionalProperties)
		}
		var fields, required []string
		for _, f := range yamlFields(typ) {
			fields = append(fields, f.name)
			if f.required {
				required = append(required, f.name)
			}
			raw, ok := def.Properties[f.name]
			if !ok {
				continue
			}
			var prop schemaDef
			if err := json.Unmarshal(raw, &prop); err != nil {
				t.Fatal(err)
			}
			ft := typ.Field(f.index).Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Slice && ft != matrixType {
				if prop.Items == nil {
					t.Errorf("%s.%s: a list in Go, no items in the schema", typ.Name(), f.name)
					continue
				}
				prop = *prop.Items
				ft = ft.Elem()
			}
			want := ""
			if name, ok := special[ft]; ok {
				want = name
			} else if ft.Kind() == reflect.Struct {
				want = ft.Name()
				check(ft)
			}
			if want != "" && prop.Ref != "#/$defs/"+want {
				t.Errorf("%s.%s: $ref %q, want #/$defs/%s", typ.Name(), f.name, prop.Ref, want)
			}
		}
		var props []string
		for p := range def.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		sorted := slices.Sorted(slices.Values(fields))
		if !slices.Equal(props, sorted) {
			t.Errorf("%s: schema properties %v, Go YAML fields %v", typ.Name(), props, sorted)
		}
		if !slices.Equal(slices.Sorted(slices.Values(def.Required)), slices.Sorted(slices.Values(required))) {
			t.Errorf("%s: schema requires %v, Go requires %v", typ.Name(), def.Required, required)
		}
	}
	check(reflect.TypeOf(Scenario{}))
	for _, name := range []string{"Target", "Command", "Ready", "Stop", "LogPattern", "RequestClass", "Phase", "Sample", "MetricsSource", "Variant"} {
		if _, ok := defs[name]; !ok {
			t.Errorf("definition %s missing", name)
		}
	}
	if len(seen) < 11 {
		t.Errorf("walked %d struct types, want at least 11", len(seen))
	}

	// The builtin target lists exactly the flags the loader accepts.
	var flags []string
	for p := range defs["Builtin"].Properties {
		flags = append(flags, p)
	}
	sort.Strings(flags)
	if !slices.Equal(flags, BuiltinFlags()) {
		t.Errorf("schema builtin flags %v, loader %v", flags, BuiltinFlags())
	}
	if defs["Builtin"].AdditionalProperties != false {
		t.Error("Builtin allows unknown flags")
	}
	// The threshold pattern accepts what the loader parses and rejects
	// what has no operator.
	var th struct {
		Pattern string `json:"pattern"`
	}
	data, _ := os.ReadFile("schema.json")
	var doc struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Defs["Threshold"], &th); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(th.Pattern)
	for _, e := range []string{"light.p99 < 50ms", "errors.ratio<=0.1%", "memory.pss.slope < 1MiB/min", "restarts.count == 0"} {
		if _, err := ParseThreshold(e); err != nil || !re.MatchString(e) {
			t.Errorf("%q: loader %v, schema match %v", e, err, re.MatchString(e))
		}
	}
	for _, e := range []string{"light.p99", "light.p99 =< 5ms", "light.p99 < fast"} {
		if re.MatchString(e) {
			t.Errorf("schema accepts %q", e)
		}
	}
}
