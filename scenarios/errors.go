package scenarios

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem with a scenario: where it is, which field, and
// what was expected.
type FieldError struct {
	// File is the scenario file ("embedded:NAME.yaml" for a shipped one,
	// or "--set key=value" for a command-line override).
	File string
	// Line and Column locate the offending value (0 when unknown).
	Line, Column int
	// Path names the field, e.g. "phases[1].rate" (indexes count from 0).
	Path string
	// Msg says what was wrong and what was expected.
	Msg string
}

// Error formats e as "FILE:LINE:COL: field PATH: MSG".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		fmt.Fprintf(&b, "field %s: ", e.Path)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError holds every problem found in a scenario, in file order.
type ValidationError struct {
	Errors []*FieldError
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, so errors.As finds a *FieldError.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}

// position is where a YAML node starts.
type position struct{ line, col int }

// maxErrors bounds the errors reported for one scenario.
const maxErrors = 100

// errorList collects field errors for one source.
type errorList struct {
	file   string
	errs   []*FieldError
	paths  map[string]bool // paths with an error, and every parent of them
	capped bool
}

// add records an error unless path already has one (a value that failed to
// decode is not also reported as out of range).
func (l *errorList) add(p position, path, format string, args ...any) {
	if l.paths == nil {
		l.paths = map[string]bool{}
	}
	if path != "" && l.paths["="+path] {
		return
	}
	if len(l.errs) >= maxErrors {
		l.capped = true
		return
	}
	l.errs = append(l.errs, &FieldError{File: l.file, Line: p.line, Column: p.col, Path: path, Msg: fmt.Sprintf(format, args...)})
	l.paths["="+path] = true
	for q := path; q != ""; q = parentPath(q) {
		l.paths[q] = true
	}
}

// has reports whether path or a field under it already has an error.
func (l *errorList) has(path string) bool { return l.paths[path] }

// err returns the collected errors sorted by position, or nil.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if l.capped {
		l.errs = append(l.errs, &FieldError{File: l.file, Msg: fmt.Sprintf("more than %d errors; the rest are not shown", maxErrors)})
		l.capped = false
	}
	return &ValidationError{Errors: l.errs}
}
