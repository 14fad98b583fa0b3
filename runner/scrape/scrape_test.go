package scrape

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

const exposition = `# TYPE lag_seconds histogram
lag_seconds_bucket{worker="1",le="0.01"} 3
lag_seconds_bucket{worker="1",le="0.1"} 5
lag_seconds_bucket{worker="1",le="+Inf"} 6
lag_seconds_sum{worker="1"} 1.5
lag_seconds_count{worker="1"} 6
# TYPE requests_total counter
requests_total{pid="12",code="200"} 42
# TYPE alive gauge
alive 2
# TYPE rpc summary
rpc{quantile="0.99"} 0.2
rpc_sum 3
rpc_count 30
`

func TestGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, exposition)
	}))
	defer srv.Close()
	got, err := Get(context.Background(), srv.Client(), srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Series{
		{"alive", "", 2},
		{"lag_seconds_bucket", `le="+Inf",worker="1"`, 6},
		{"lag_seconds_bucket", `le="0.01",worker="1"`, 3},
		{"lag_seconds_bucket", `le="0.1",worker="1"`, 5},
		{"lag_seconds_count", `worker="1"`, 6},
		{"lag_seconds_sum", `worker="1"`, 1.5},
		{"requests_total", `code="200",pid="12"`, 42},
		{"rpc", `quantile="0.99"`, 0.2},
		{"rpc_count", "", 30},
		{"rpc_sum", "", 3},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	only, err := Get(context.Background(), srv.Client(), srv.URL, []string{"alive"})
	if err != nil || len(only) != 1 || only[0].Metric != "alive" {
		t.Errorf("names filter: %v %v", only, err)
	}
}

func TestGetErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			fmt.Fprint(w, "not { metrics\n")
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	for _, path := range []string{"/bad", "/missing"} {
		if _, err := Get(context.Background(), srv.Client(), srv.URL+path, nil); err == nil {
			t.Errorf("%s: no error", path)
		}
	}
}
