package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes the loader panic, and that whatever
// it accepts survives a Marshal round trip.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("name: x\ntarget: {command: {argv: [a, '{{port}}']}}\ntraffic: [{name: a, weight: 1, path: /}]\nphases: [{duration: 1s, concurrency: 2}]\nmatrix: {a: [1]}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("thresholds: ['light.p99 < 5ms', 'x']\n"))
	files, _ := filepath.Glob("shipped/*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		s.Expand()
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted scenario: %v", err)
		}
		if _, err := Parse(out, "fuzz.yaml"); err != nil {
			t.Fatalf("Parse(Marshal()) failed: %v\ninput:\n%s\noutput:\n%s", err, data, out)
		}
	})
}
