package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoopFlagsNeedLoopModel checks that validation refuses what
// "sawtooth serve" would refuse at the start of a run: a loop-model flag in
// a variant that does not run worker_model loop, at the line where it is set.
func TestLoopFlagsNeedLoopModel(t *testing.T) {
	for _, c := range []struct {
		name, edit string
		line       int
		path       string
	}{
		{"base target", "    workers: 2\n    offload: threads\n", 5, "target.builtin.offload"},
		{"explicit sync", "    workers: 2\n    worker_model: sync\n    gil: false\n", 6, "target.builtin.gil"},
		{"variant", "    workers: 2\n    worker_model: loop\n", 0, ""},
	} {
		y := strings.Replace(base, "    workers: 2\n", c.edit, 1)
		_, err := Parse([]byte(y), "l.yaml")
		if c.path == "" {
			if err != nil {
				t.Errorf("%s: %v, want valid", c.name, err)
			}
			continue
		}
		if !hasError(err, c.line, c.path, "want worker_model: loop") {
			t.Errorf("%s: err = %v, want line %d field %s", c.name, err, c.line, c.path)
		}
	}
	loop := strings.Replace(base, "    workers: 2\n", "    workers: 2\n    worker_model: loop\n    offload: threads\n", 1)
	y := loop + "variants:\n  - name: on-loop\n  - name: sync\n    set: {worker_model: sync}\n"
	if _, err := Parse([]byte(y), "v.yaml"); !hasError(err, 6, "target.builtin.offload", `variant "sync" runs worker_model sync`) {
		t.Errorf("variant switching to sync: %v", err)
	}
	y = base + "variants:\n  - name: a\n    set: {offload: processes}\n"
	if _, err := Parse([]byte(y), "v.yaml"); !hasError(err, 17, "variants[0].set.offload", "worker_model: loop") {
		t.Errorf("variant setting offload: %v", err)
	}
	y = base + "matrix:\n  lag_interval: [5ms, 10ms]\n"
	if _, err := Parse([]byte(y), "m.yaml"); !hasError(err, 16, "matrix.lag_interval", "worker_model: loop") {
		t.Errorf("matrix of a loop flag: %v", err)
	}

	s, err := Load("offload")
	if err != nil {
		t.Fatal(err)
	}
	err = s.ApplySet([]string{"worker_model=sync"})
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "--set worker_model=sync: field matrix.offload:") {
		t.Errorf("offload --set worker_model=sync: %v, want a --set error on matrix.offload", err)
	}
}

// TestLoadChecksFiles checks that Load refuses a body_file or dir a run
// could not use, at its line, while Parse (no file system) accepts them.
func TestLoadChecksFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	withBody := func(f string) string {
		return strings.Replace(base, "    path: /light\n", "    path: /light\n    method: POST\n    body_file: "+f+"\n", 1)
	}
	for _, c := range []struct{ file, msg string }{
		{"body.json", ""},
		{filepath.Join(dir, "body.json"), ""},
		{"missing.json", "no such file"},
		{"fifo", "want a regular file"},
		{".", "want a regular file"},
	} {
		p := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(p, []byte(withBody(c.file)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if c.msg == "" {
			if err != nil {
				t.Errorf("body_file %s: %v", c.file, err)
			}
			continue
		}
		if !hasError(err, 10, "traffic[0].body_file", c.msg) {
			t.Errorf("body_file %s: err = %v, want line 10 field traffic[0].body_file %q", c.file, err, c.msg)
		}
		if _, err := Parse([]byte(withBody(c.file)), p); err != nil {
			t.Errorf("Parse checked the file system: %v", err)
		}
	}
	cmd := "name: c\ntraffic: [{name: a, weight: 1, path: /}]\nphases: [{duration: 1s, rate: 5}]\ntarget:\n  command:\n    argv: [/bin/true]\n    dir: %s\n"
	p := filepath.Join(dir, "c.yaml")
	for d, ok := range map[string]bool{".": true, "nope": false, "body.json": false, "'{{port}}'": true} {
		if err := os.WriteFile(p, []byte(strings.Replace(cmd, "%s", d, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if ok != (err == nil) || (!ok && !hasError(err, 7, "target.command.dir", "")) {
			t.Errorf("dir %s: err = %v, want ok=%v", d, err, ok)
		}
	}
}

// hasError reports whether err is a *ValidationError with an error at line
// on path whose message contains msg.
func hasError(err error, line int, path, msg string) bool {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, fe := range ve.Errors {
		if fe.Line == line && fe.Path == path && strings.Contains(fe.Msg, msg) {
			return true
		}
	}
	return false
}
