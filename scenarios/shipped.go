package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// shippedFS holds the scenarios built into the binary.
//
//go:embed shipped/*.yaml
var shippedFS embed.FS

// Info describes a shipped scenario.
type Info struct {
	// Name is what "sawtooth run NAME" accepts, e.g. "quickstart".
	Name string
	// Description is the scenario's description field.
	Description string
	// Path names the embedded file, e.g. "embedded:quickstart.yaml".
	Path string
	// Err is set when the shipped file does not parse (a bug).
	Err error
}

// Shipped lists the shipped scenarios, sorted by name.
func Shipped() []Info {
	entries, _ := fs.Glob(shippedFS, "shipped/*.yaml")
	var out []Info
	for _, e := range entries {
		base := path.Base(e)
		info := Info{Name: strings.TrimSuffix(base, ".yaml"), Path: "embedded:" + base}
		data, err := shippedFS.ReadFile(e)
		if err == nil {
			var s *Scenario
			if s, err = Parse(data, info.Path); err == nil {
				info.Description = s.Description
			}
		}
		info.Err = err
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ShippedFile returns the YAML of the shipped scenario name ("quickstart"
// or "quickstart.yaml").
func ShippedFile(name string) ([]byte, error) {
	base := strings.TrimSuffix(name, ".yaml")
	if base == "" || strings.ContainsAny(base, `/\`) {
		return nil, fmt.Errorf("no shipped scenario named %q (shipped: %s)", name, shippedNames())
	}
	data, err := shippedFS.ReadFile("shipped/" + base + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no shipped scenario named %q (shipped: %s)", name, shippedNames())
	}
	return data, nil
}

func shippedNames() string {
	var names []string
	for _, i := range Shipped() {
		names = append(names, i.Name)
	}
	return strings.Join(names, ", ")
}

// Load reads the scenario file at path or, when no such file exists and
// path is a plain name, the shipped scenario of that name. It parses and
// validates it, checks the files it names (see Parse), and sets File (to "" for a shipped scenario, whose errors
// name "embedded:NAME.yaml").
func Load(path string) (*Scenario, error) {
	data, err := ReadFile(path, maxSize)
	if err == nil {
		dir := filepath.Dir(path)
		return parse(data, path, &dir)
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return nil, &ValidationError{Errors: []*FieldError{{File: path, Msg: fe.Msg}}}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	if strings.ContainsAny(path, `/\`) {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	data, serr := ShippedFile(path)
	if serr != nil {
		return nil, fmt.Errorf("no file %q and %w", path, serr)
	}
	cwd := ""
	s, err := parse(data, "embedded:"+strings.TrimSuffix(path, ".yaml")+".yaml", &cwd)
	if err != nil {
		return nil, err
	}
	s.File = ""
	return s, nil
}

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema of scenario files (schema.json), for
// editors that complete and check YAML against a schema.
func Schema() []byte { return append([]byte(nil), schemaJSON...) }
