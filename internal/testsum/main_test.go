package main

import (
	"strings"
	"testing"
)

// TestSummarize checks the skip line and the exit decision on a stream
// as "go test -json" writes it.
func TestSummarize(t *testing.T) {
	in := `{"Action":"start","Package":"p/integration"}
{"Action":"run","Package":"p/integration","Test":"TestGunicorn"}
{"Action":"output","Package":"p/integration","Test":"TestGunicorn","Output":"=== RUN   TestGunicorn\n"}
{"Action":"output","Package":"p/integration","Test":"TestGunicorn","Output":"    harness_test.go:52: real targets not installed: /usr/bin/gunicorn; run ` + "`make deps`" + ` (scripts/deps.sh)\n"}
{"Action":"output","Package":"p/integration","Test":"TestGunicorn","Output":"--- SKIP: TestGunicorn (0.01s)\n"}
{"Action":"skip","Package":"p/integration","Test":"TestGunicorn"}
{"Action":"run","Package":"p/server","Test":"TestLeak"}
{"Action":"output","Package":"p/server","Test":"TestLeak","Output":"    server_test.go:386: -race: shadow memory\n"}
{"Action":"skip","Package":"p/server","Test":"TestLeak"}
{"Action":"run","Package":"p/server","Test":"TestOK"}
{"Action":"output","Package":"p/server","Test":"TestOK","Output":"noise\n"}
{"Action":"pass","Package":"p/server","Test":"TestOK"}
{"Action":"output","Package":"p/server","Output":"ok  \tp/server\t0.1s\n"}
{"Action":"pass","Package":"p/server"}
{"Action":"output","Package":"p/integration","Output":"ok  \tp/integration\t0.1s\n"}
{"Action":"pass","Package":"p/integration"}
`
	var out strings.Builder
	s, err := summarize(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"ok  \tp/server", "2 test(s) skipped:", "p/integration TestGunicorn: real targets not installed",
		"p/server TestLeak: -race: shadow memory", "1 of them need gunicorn/uvicorn: run `make deps`"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise") || s.failed || len(s.skipped) != 2 {
		t.Errorf("failed %v, %d skipped, output:\n%s", s.failed, len(s.skipped), got)
	}

	fail := `{"Action":"run","Package":"p","Test":"TestX"}
{"Action":"output","Package":"p","Test":"TestX","Output":"    x_test.go:3: boom\n"}
{"Action":"fail","Package":"p","Test":"TestX"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
`
	out.Reset()
	s, _ = summarize(strings.NewReader(fail), &out)
	if !s.failed || !strings.Contains(out.String(), "boom") || !strings.Contains(out.String(), "FAIL\tp") || !strings.Contains(out.String(), "no test skipped") {
		t.Errorf("failing stream: failed %v, output:\n%s", s.failed, out.String())
	}
}
