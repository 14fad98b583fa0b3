package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

const clientBlock = `client:
  retry: false
  keepalive: true
  connections: 8
  timeout: 5s
  max_body: 64KiB
  http2: false
variants:
  - name: a
  - name: b
    client: {retry: true, max_body: -1}
`

// The client block parses, defaults fill what it leaves out, a variant
// overrides only what it gives, and scenario.yaml keeps it all.
func TestClientBlock(t *testing.T) {
	s, err := Parse([]byte(base), "base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client
	if !Bool(c.Retry, false) || !Bool(c.KeepAlive, false) || Bool(c.HTTP2, true) || c.Timeout != DefaultClientTimeout ||
		c.MaxBody == nil || *c.MaxBody != DefaultMaxBody || c.Connections != 0 {
		t.Errorf("client defaults = %+v", c)
	}

	s, err = Parse([]byte(base+clientBlock), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vs := s.Expand()
	a, b := s.ClientFor(vs[0]), s.ClientFor(vs[1])
	if Bool(a.Retry, true) || a.Connections != 8 || a.Timeout.D().Seconds() != 5 || *a.MaxBody != 64<<10 {
		t.Errorf("variant a client = %+v", a)
	}
	if !Bool(b.Retry, false) || b.Connections != 8 || *b.MaxBody != NoLimit || Bool(b.HTTP2, true) {
		t.Errorf("variant b client = %+v", b)
	}
	yml, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(yml, "scenario.yaml")
	if err != nil {
		t.Fatalf("scenario.yaml does not parse back: %v\n%s", err, yml)
	}
	bvs := back.Expand()
	if ra, rb := back.ClientFor(bvs[0]), back.ClientFor(bvs[1]); Bool(ra.Retry, true) || *rb.MaxBody != NoLimit || ra.Connections != 8 {
		t.Errorf("after Marshal: a %+v, b %+v\n%s", ra, rb, yml)
	}
	for _, want := range []string{"retry: false", "max_body: 65536", "max_body: -1", "connections: 8"} {
		if !strings.Contains(string(yml), want) {
			t.Errorf("scenario.yaml lacks %q:\n%s", want, yml)
		}
	}

	s, err = Parse([]byte(strings.Replace(base, "    path: /cpu?ms=20\n", "    path: /cpu?ms=20\n    timeout: 250ms\n", 1)), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Traffic[1].Timeout.D().Milliseconds() != 250 || s.Traffic[0].Timeout != 0 {
		t.Errorf("class timeouts = %v, %v", s.Traffic[0].Timeout, s.Traffic[1].Timeout)
	}
}

// Every field of the client block, and a class's timeout, reports a
// malformed value at its file, line and column.
func TestClientMalformed(t *testing.T) {
	cases := []struct {
		name, yaml string
		line, col  int
		path, msg  string
	}{
		{"retry not a bool", base + "client:\n  retry: sometimes\n", 16, 10, "client.retry", "want true or false"},
		{"keepalive a number", base + "client:\n  keepalive: 1\n", 16, 14, "client.keepalive", "want true or false"},
		{"http2 a list", base + "client:\n  http2: [true]\n", 16, 10, "client.http2", "want true or false"},
		{"connections zero", base + "client:\n  connections: 0\n", 16, 16, "client.connections", "want an integer from 1"},
		{"connections text", base + "client:\n  connections: many\n", 16, 16, "client.connections", "want an integer"},
		{"timeout bad", base + "client:\n  timeout: soon\n", 16, 12, "client.timeout", "want a duration"},
		{"timeout zero", base + "client:\n  timeout: 0s\n", 16, 12, "client.timeout", "want a duration > 0"},
		{"max_body bad unit", base + "client:\n  max_body: 4 parsecs\n", 16, 13, "client.max_body", "want a size"},
		{"max_body below -1", base + "client:\n  max_body: -2\n", 16, 13, "client.max_body", "or -1"},
		{"unknown client field", base + "client:\n  retries: 3\n", 16, 3, "client.retries", "unknown field"},
		{"client not a mapping", base + "client: yes\n", 15, 9, "client", "want a mapping"},
		{"variant client", base + "variants:\n  - name: a\n    client: {retry: 0}\n", 17, 21, "variants[0].client.retry", "want true or false"},
		{"variant connections", base + "variants:\n  - name: a\n    client:\n      connections: -3\n", 18, 20, "variants[0].client.connections", "want an integer from 1"},
		{"class timeout", strings.Replace(base, "    path: /light\n", "    path: /light\n    timeout: -1s\n", 1), 9, 14, "traffic[0].timeout", "want a duration"},
		{"class timeout too long", strings.Replace(base, "    path: /light\n", "    path: /light\n    timeout: 2h\n", 1), 9, 14, "traffic[0].timeout", "at most 1h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "f.yaml")
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FieldError", err)
			}
			want := fmt.Sprintf("f.yaml:%d:%d: field %s: ", tc.line, tc.col, tc.path)
			if !strings.HasPrefix(fe.Error(), want) || !strings.Contains(fe.Msg, tc.msg) {
				t.Errorf("error %q, want prefix %q and %q", fe.Error(), want, tc.msg)
			}
		})
	}
}
