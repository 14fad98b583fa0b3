// Package units parses and formats the byte sizes sawtooth's flags,
// scenarios and thresholds use, such as "256MiB".
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// sizeUnit returns the factor of a unit suffix, already lower-cased.
// Decimal units (KB, MB, GB) are powers of 1000, binary ones (KiB, MiB, GiB)
// powers of 1024, as in the IEC standard; K, M and G alone are binary, as in
// uWSGI and most command-line tools.
func sizeUnit(unit string) (float64, bool) {
	switch unit {
	case "", "b":
		return 1, true
	case "k", "kib":
		return 1 << 10, true
	case "kb":
		return 1e3, true
	case "m", "mib":
		return 1 << 20, true
	case "mb":
		return 1e6, true
	case "g", "gib":
		return 1 << 30, true
	case "gb":
		return 1e9, true
	case "t", "tib":
		return 1 << 40, true
	case "tb":
		return 1e12, true
	}
	return 0, false
}

// SizeError is a malformed size.
type SizeError struct {
	Input string
}

// Error says what was wrong and what a size looks like.
func (e *SizeError) Error() string {
	return fmt.Sprintf("bad size %q: want a non-negative number with an optional unit B, KiB, MiB, GiB, TiB (binary) or KB, MB, GB, TB (decimal), e.g. 256MiB", e.Input)
}

// ParseSize parses a byte size such as "256MiB", "1.5 GiB", "64k" or "1024".
// It rejects negative numbers, unknown units and sizes above 2^62 bytes.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	i := strings.IndexFunc(in, func(r rune) bool { return !(unicode.IsDigit(r) || r == '.') })
	if i < 0 {
		i = len(in)
	}
	num, unit := in[:i], strings.ToLower(strings.TrimSpace(in[i:]))
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, &SizeError{Input: s}
	}
	k, ok := sizeUnit(unit)
	if !ok {
		return 0, &SizeError{Input: s}
	}
	v := f * k
	if math.IsInf(v, 0) || math.IsNaN(v) || v > 1<<62 {
		return 0, &SizeError{Input: s}
	}
	return int64(math.Round(v)), nil
}

// FormatSize formats n bytes with a binary unit and up to one decimal,
// e.g. "1.5 MiB" or "512 B".
func FormatSize(n int64) string {
	neg := n < 0
	f := math.Abs(float64(n))
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if u == 0 || f >= 100 || f == math.Trunc(f) {
		return fmt.Sprintf("%s%.0f %s", sign, f, units[u])
	}
	return fmt.Sprintf("%s%.1f %s", sign, f, units[u])
}
