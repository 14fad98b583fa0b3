package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compileSchema compiles schema.json with a real JSON Schema (draft
// 2020-12) validator, santhosh-tekuri/jsonschema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://github.com/sawtooth-dev/sawtooth/scenarios/schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile schema.json: %v", err)
	}
	return sch
}

// yamlToJSON turns a YAML document into the JSON value an editor's schema
// check sees.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	j, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestSchemaAcceptsShippedAndTestdata checks every shipped and testdata
// scenario against schema.json with a real validator, and that the loader
// accepts them too: the schema and "sawtooth validate" agree on them.
func TestSchemaAcceptsShippedAndTestdata(t *testing.T) {
	sch := compileSchema(t)
	files, err := filepath.Glob("shipped/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../reports/testdata/run/scenario.yaml")
	if len(files) < 8 {
		t.Fatalf("only %d scenario files found", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(data, f); err != nil {
			t.Errorf("%s: the loader rejects it: %v", f, err)
		}
		if err := sch.Validate(yamlToJSON(t, data)); err != nil {
			t.Errorf("%s: schema.json rejects it: %v", f, err)
		}
	}
}

// TestSchemaQuotedIntegers checks that the schema accepts an integer flag
// quoted as the loader does, and rejects what the loader rejects.
func TestSchemaQuotedIntegers(t *testing.T) {
	sch := compileSchema(t)
	for _, c := range []struct {
		flag  string
		valid bool
	}{
		{`workers: 2`, true}, {`workers: "2"`, true}, {`workers: " 3 "`, true},
		{`workers: 0`, false}, {`workers: "0"`, false}, {`workers: "two"`, false}, {`workers: "2.5"`, false},
		{`max_requests: "0"`, true}, {`max_requests: "-1"`, false},
		{`seed: "7"`, true}, {`seed: "-7"`, false}, {`offload_workers: "256"`, true}, {`offload_workers: "257"`, false},
	} {
		y := strings.Replace(base, "    workers: 2\n", "    worker_model: loop\n    "+c.flag+"\n", 1)
		_, perr := Parse([]byte(y), "q.yaml")
		serr := sch.Validate(yamlToJSON(t, []byte(y)))
		if (perr == nil) != c.valid || (serr == nil) != c.valid {
			t.Errorf("%s: loader %v, schema %v; want valid=%v", c.flag, perr, serr, c.valid)
		}
	}
}
