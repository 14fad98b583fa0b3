package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Dir is an opened run directory.
type Dir struct {
	Path string
	Meta Meta
}

// Open reads the meta.json of the run directory at path.
func Open(path string) (*Dir, error) {
	d := &Dir{Path: path}
	if err := ReadJSON(filepath.Join(path, MetaFile), &d.Meta); err != nil {
		return nil, fmt.Errorf("open run directory: %w", err)
	}
	if d.Meta.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("open run directory %s: format version %d is newer than this sawtooth understands (%d)", path, d.Meta.FormatVersion, FormatVersion)
	}
	return d, nil
}

// File returns the path of a file of one variant and repeat.
func (d *Dir) File(r RunRef, name string) string {
	return filepath.Join(d.Path, r.Dir, name)
}

// RunInfo reads the run.json of one variant and repeat.
func (d *Dir) RunInfo(r RunRef) (RunInfo, error) {
	var ri RunInfo
	err := ReadJSON(d.File(r, RunFile), &ri)
	return ri, err
}

// Variants returns the variant names in the order they ran.
func (d *Dir) Variants() []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range d.Meta.Runs {
		if !seen[r.Variant] {
			seen[r.Variant] = true
			names = append(names, r.Variant)
		}
	}
	return names
}

// EachResult calls fn for every vegeta result in a results.bin file.
// Result.Attack holds the request class (runner/attack's Tag says why
// there). A final record cut short (a run killed mid-write) is ignored.
func EachResult(path string, fn func(*vegeta.Result) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read run file: %w", err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	for {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: decode result: %w", path, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}
