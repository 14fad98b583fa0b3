package scenarios

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// readerErrors are the yaml.v3 messages about bytes that are not YAML text
// at all (binary data, NUL, invalid UTF-8); yaml.v3 gives them no line.
var readerErrors = []string{
	"control characters are not allowed",
	"invalid leading UTF-8 octet",
	"invalid trailing UTF-8 octet",
	"incomplete UTF-8 octet sequence",
	"invalid length of a UTF-8 sequence",
	"invalid Unicode character",
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locate fills in the position of a YAML syntax error that yaml.v3 gave
// without one, from the data itself: the first byte that is not YAML text,
// the first alias of an unknown anchor, or else line 1 (yaml.v3 leaves out
// the line of an error on the first line). An error yaml.v3 gave a line
// keeps it; yaml.v3 gives no column, so one is added only for a tab in
// indentation, where it is certain.
func locate(fe *FieldError, data []byte) {
	msg := strings.TrimPrefix(fe.Msg, "invalid YAML: ")
	if fe.Line > 0 {
		// A tab in indentation: its column is that of the line's first tab.
		if lines := strings.Split(string(data), "\n"); strings.HasPrefix(msg, "found a tab character") && fe.Line <= len(lines) {
			if i := strings.IndexByte(lines[fe.Line-1], '\t'); i >= 0 {
				fe.Column = utf8.RuneCountInString(lines[fe.Line-1][:i]) + 1
			}
		}
		return
	}
	for _, r := range readerErrors {
		if msg == r {
			if line, col, what, ok := firstNonText(data); ok {
				fe.Line, fe.Column = line, col
				fe.Msg = "invalid YAML: " + what + ", want UTF-8 text (is this a binary file?)"
			}
			return
		}
	}
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		if line, col, ok := findAlias(data, m[1]); ok {
			fe.Line, fe.Column = line, col
			fe.Msg = fmt.Sprintf("invalid YAML: alias *%s of an anchor never defined, want &%s on a value before it", m[1], m[1])
		}
		return
	}
	fe.Line = 1
}

// firstNonText finds the first byte sequence of data that YAML does not
// allow: invalid UTF-8, or a character outside YAML's printable set (tab,
// LF, CR, U+0020-U+007E, U+0085, U+00A0-U+D7FF, U+E000-U+FFFD, above
// U+FFFF), the rules of yaml.v3's reader. It returns its 1-based line and
// column (in characters) and a description.
func firstNonText(data []byte) (line, col int, what string, ok bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	line, col = 1, 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			return line, col, fmt.Sprintf("byte 0x%02x is not valid UTF-8", data[i]), true
		case !yamlPrintable(r):
			return line, col, fmt.Sprintf("control character %U", r), true
		}
		i += n
		col++
		if r == '\n' {
			line, col = line+1, 1
		}
	}
	return 0, 0, "", false
}

func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd:
		return true
	}
	return r >= 0x10000 && r <= utf8.MaxRune
}

// findAlias returns the position of the first "*name" alias in data: a '*'
// followed by name and then a character that cannot be part of an anchor
// name.
func findAlias(data []byte, name string) (line, col int, ok bool) {
	for ln, text := range strings.Split(string(data), "\n") {
		for off := 0; ; {
			i := strings.Index(text[off:], "*"+name)
			if i < 0 {
				break
			}
			i += off
			end := i + 1 + len(name)
			if end == len(text) || strings.ContainsRune(" \t\r,]}#", rune(text[end])) {
				return ln + 1, utf8.RuneCountInString(text[:i]) + 1, true
			}
			off = i + 1
		}
	}
	return 0, 0, false
}
