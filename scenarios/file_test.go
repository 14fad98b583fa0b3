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
