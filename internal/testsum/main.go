// Command testsum reads "go test -json" on standard input, prints what
// "go test" would (each package's result line, the output of failed tests,
// build errors) and ends with one line counting the skipped tests and
// saying how to run them, so "make test" never skips silently. It exits 1
// when a test or a build failed.
//
// Usage: go test -json ./... | go run ./internal/testsum
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json output ("go doc test2json").
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// summary is what testsum found.
type summary struct {
	failed  bool
	skipped []string // "pkg TestName: reason"
}

func main() {
	s, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
	if s.failed {
		os.Exit(1)
	}
}

// summarize copies the essentials of the test2json stream r to w and
// prints the skip line at the end.
func summarize(r io.Reader, w io.Writer) (summary, error) {
	var s summary
	output := map[string][]string{} // package/test → its output lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line) // not JSON: pass it through
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output", "build-output":
			if e.Test == "" && e.Action == "output" && !isResultLine(e.Output) {
				output[key] = append(output[key], e.Output)
				continue
			}
			if e.Test == "" {
				fmt.Fprint(w, e.Output) // "ok pkg 1.2s", "FAIL pkg", build errors
				continue
			}
			output[key] = append(output[key], e.Output)
		case "skip":
			if e.Test != "" {
				s.skipped = append(s.skipped, fmt.Sprintf("%s %s: %s", e.Package, e.Test, skipReason(output[key])))
			}
			delete(output, key)
		case "fail", "build-fail":
			s.failed = true
			// A test's output, or a package's own (a panic, TestMain's).
			for _, o := range output[key] {
				fmt.Fprint(w, o)
			}
			delete(output, key)
		case "pass":
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	printSkips(w, s.skipped)
	return s, nil
}

// isResultLine reports whether a package's output line is its result:
// "ok  ...", "FAIL ...", "--- FAIL", or "?   ... [no test files]".
func isResultLine(o string) bool {
	for _, p := range []string{"ok  ", "FAIL", "?   ", "--- FAIL"} {
		if strings.HasPrefix(o, p) {
			return true
		}
	}
	return false
}

// skipReason returns the message a skipped test gave (its t.Skip text).
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l, "_test.go:") {
			return msg
		}
		return l
	}
	return "no reason given"
}

func printSkips(w io.Writer, skipped []string) {
	if len(skipped) == 0 {
		fmt.Fprintln(w, "no test skipped")
		return
	}
	sort.Strings(skipped)
	deps := 0
	for _, s := range skipped {
		if strings.Contains(s, "make deps") {
			deps++
		}
	}
	fmt.Fprintf(w, "%d test(s) skipped:\n", len(skipped))
	for _, s := range skipped {
		fmt.Fprintf(w, "  %s\n", s)
	}
	if deps > 0 {
		fmt.Fprintf(w, "%d of them need gunicorn/uvicorn: run `make deps` (Debian packages), then `make test` again\n", deps)
	}
}
