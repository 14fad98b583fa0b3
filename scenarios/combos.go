package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"
)

// comboError is a problem with a combination of values, found per variant
// after the values themselves passed.
type comboError struct{ path, msg string }

// loopFlagErrors reports loop-only builtin flags in a variant whose
// worker_model is not loop, which "sawtooth serve" would refuse at the
// start of the run. The path is where the flag is set: the variant's own
// set, the matrix, or the base target.
func (s *Scenario) loopFlagErrors() []comboError {
	if s.Target.Builtin == nil || s.Target.Command != nil {
		return nil
	}
	own := map[string]map[string]bool{} // variant name → keys it sets itself
	for _, v := range s.Variants {
		own[v.Name] = map[string]bool{}
		for k := range v.Set {
			own[v.Name][k] = true
		}
	}
	var errs []comboError
	seen := map[string]bool{}
	for _, v := range s.Expand() {
		model := strings.TrimSpace(v.Set["worker_model"])
		if model == "" {
			model = DefaultWorkerModel
		}
		if model == "loop" {
			continue
		}
		for _, k := range sortedKeys(v.Set) {
			if !LoopOnlyFlag(k) {
				continue
			}
			path := "target.builtin." + k
			switch {
			case own[v.Name][k]:
				path = s.variantPath(v.Name) + ".set." + k
			case v.Params[k] != "":
				path = "matrix." + k
			}
			if seen[path] {
				continue
			}
			seen[path] = true
			errs = append(errs, comboError{path, fmt.Sprintf("%s is a flag of the loop worker model, want worker_model: loop (variant %q runs worker_model %s)", k, v.Name, model)})
		}
	}
	return errs
}

func (s *Scenario) variantPath(name string) string {
	for i, v := range s.Variants {
		if v.Name == name {
			return index("variants", i)
		}
	}
	return "variants"
}

// checkFiles reports the files the scenario names that a run would fail
// to use: a body_file that is missing, not a regular file or over
// MaxBodySize, and a command's dir that is not a directory. Relative paths
// are relative to base, the scenario file's directory. Paths with
// placeholders are left to the run.
func (s *Scenario) checkFiles(base string, at func(string, string, ...any)) {
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	for si, st := range s.StreamList() {
		path := "traffic"
		if len(s.Streams) > 0 {
			path = index("streams", si) + ".traffic"
		}
		for i, c := range st.Traffic {
			if c.BodyFile == "" {
				continue
			}
			if err := StatFile(rel(c.BodyFile), MaxBodySize); err != nil {
				at(index(path, i)+".body_file", "%v", err)
			}
		}
	}
	if c := s.Target.Command; c != nil && c.Dir != "" && !placeholderRE.MatchString(c.Dir) {
		if err := statDir(rel(c.Dir)); err != nil {
			at("target.command.dir", "%v", err)
		}
	}
}
