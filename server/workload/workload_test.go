package workload

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		path, query string
		kind        Kind
		bad         bool
	}{
		{"/light", "", Light, false},
		{"/light", "await_ms=20", Light, false},
		{"/healthz", "", Health, false},
		{"/cpu", "ms=10", CPU, false},
		{"/cpu", "", CPU, true},
		{"/cpu", "ms=-1", CPU, true},
		{"/cpu", "ms=60001", CPU, true},
		{"/block", "ms=abc", Block, true},
		{"/regex", "kb=64", Regex, false},
		{"/regex", "kb=0", Regex, true},
		{"/leak", "bytes=1048576", Leak, false},
		{"/leak", "bytes=2000000000", Leak, true},
	} {
		q, _ := url.ParseQuery(tc.query)
		j, err := Parse(tc.path, q)
		var pe *ParamError
		if tc.bad != errors.As(err, &pe) {
			t.Errorf("Parse(%s?%s) error = %v, want bad=%v", tc.path, tc.query, err, tc.bad)
			continue
		}
		if !tc.bad && j.Kind != tc.kind {
			t.Errorf("Parse(%s?%s).Kind = %v, want %v", tc.path, tc.query, j.Kind, tc.kind)
		}
	}
	if _, err := Parse("/nope", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Parse(/nope) = %v, want ErrNotFound", err)
	}
}

func TestBurnCPUYields(t *testing.T) {
	n := 0
	BurnCPU(20*time.Millisecond, func() { n++ })
	if n < 5 {
		t.Errorf("BurnCPU(20ms) yielded %d times, want at least 5", n)
	}
}

func TestDocumentAndValidate(t *testing.T) {
	doc := Document(64)
	if len(doc) < 60<<10 || len(doc) > 70<<10 {
		t.Fatalf("Document(64) is %d bytes, want about 64 KiB", len(doc))
	}
	yields := 0
	v, err := Validate(doc, func() { yields++ })
	if err != nil {
		t.Fatal(err)
	}
	if v.Records == 0 || yields != v.Records || v.Checks < 10*v.Records {
		t.Errorf("Validate = %+v with %d yields", v, yields)
	}
	if v.Flagged != 0 {
		t.Errorf("generated document flagged %d fields, want 0", v.Flagged)
	}
}

func TestLeaker(t *testing.T) {
	var l Leaker
	l.Leak(1 << 20)
	l.Leak(0)
	if l.Total() != 1<<20 {
		t.Errorf("Total = %d", l.Total())
	}
}

func BenchmarkValidate64KiB(b *testing.B) {
	doc := Document(64)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		Validate(doc, nil)
	}
}
