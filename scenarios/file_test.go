package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesNonRegular checks that Load refuses, promptly and without
// reading more than the limit, what is not a regular file of at most 4 MiB:
// /dev/zero never ends and a FIFO without a writer blocks on open.
func TestLoadRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("name: x\n#"+strings.Repeat("a", maxSize)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "a character device, want a regular file",
		fifo:        "a named pipe (FIFO), want a regular file",
		dir:         "a directory, want a regular file",
		big:         "file too large",
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(path); done <- err }()
		select {
		case err := <-done:
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].File != path || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s) = %v, want one error naming the file: %q", path, err, want)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("Load(%s) still running after 3s", path)
		}
	}
}

// TestReadFileLimit checks the limit is exact: limit bytes are read, one
// more is an error.
func TestReadFileLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("ReadFile(limit 5) = %q, %v", b, err)
	}
	var fe *FileError
	if _, err := ReadFile(p, 4); !errors.As(err, &fe) {
		t.Errorf("ReadFile(limit 4) = %v, want a *FileError", err)
	}
	if err := StatFile(p, 4); !errors.As(err, &fe) {
		t.Errorf("StatFile(limit 4) = %v, want a *FileError", err)
	}
	if err := StatFile(p, 5); err != nil {
		t.Errorf("StatFile(limit 5) = %v", err)
	}
}

// TestSyntaxErrorPositions checks that errors yaml.v3 reports without a
// position get the best one available from the data.
func TestSyntaxErrorPositions(t *testing.T) {
	for _, c := range []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"NUL", "name: x\nb: a\x00b\n", 2, 5, "U+0000"},
		{"control", "name: \"a\x01\"\n", 1, 9, "U+0001"},
		{"invalid UTF-8", "name: x\n# é\nb: a\xffb\n", 3, 5, "byte 0xff"},
		{"binary", "\x7fELF\x02\x01\x01\x00", 1, 1, "binary"},
		{"BOM then control", "\xef\xbb\xbfname: x\nb: \x02\n", 2, 4, "U+0002"},
		{"unknown anchor", "name: x\nc: &x 1\nb: [*x, *nope]\n", 3, 9, "*nope"},
		{"first line", "name: a: b\n", 1, 0, "mapping values"},
		{"tab", "name: x\n\tb: 1\n", 2, 1, "tab"},
	} {
		_, err := Parse([]byte(c.in), "s.yaml")
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a *ValidationError", c.name, err)
			continue
		}
		fe := ve.Errors[0]
		if fe.Line != c.line || fe.Column != c.col || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%s: %v, want line %d column %d and %q", c.name, fe, c.line, c.col, c.msg)
		}
	}
}
