package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The sawtooth binary that builtin targets run, built once, when a test
// first needs it, into binDir (removed by TestMain).
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sawtoothBinary returns the path of a sawtooth binary built from this
// checkout's cmd/sawtooth.
func sawtoothBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binError = os.MkdirTemp("", "sawtooth-integration-")
		if binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "sawtooth")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/sawtooth").CombinedOutput()
		if err != nil {
			binError = &buildError{err, string(out)}
		}
	})
	if binError != nil {
		t.Fatalf("build cmd/sawtooth: %v", binError)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
