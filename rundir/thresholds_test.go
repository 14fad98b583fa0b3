package rundir

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestThresholdsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), ThresholdsFile)
	if _, err := ReadThresholds(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("absent file: error %v, want fs.ErrNotExist", err)
	}
	ths := []Threshold{{Expr: "all.p99 < 250ms", Metric: "all.p99", Op: "<", Limit: 0.25}, {Expr: "errors.ratio <= 0.1%", Metric: "errors.ratio", Op: "<=", Limit: 0.001}}
	if err := WriteThresholds(path, ths); err != nil {
		t.Fatal(err)
	}
	got, err := ReadThresholds(path)
	if err != nil || !reflect.DeepEqual(got, ths) {
		t.Fatalf("ReadThresholds = %+v, %v; want %+v", got, err, ths)
	}
	if err := WriteThresholds(path, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadThresholds(path); err != nil || len(got) != 0 {
		t.Fatalf("no thresholds: %+v, %v", got, err)
	}
	if err := WriteFile(path, []byte(`{"thresholds": [{"expr": "x", "op": "<"}]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadThresholds(path); err == nil || !strings.Contains(err.Error(), "thresholds[0]") {
		t.Fatalf("no metric: error %v, want one naming thresholds[0]", err)
	}
}

func TestThresholdHolds(t *testing.T) {
	cases := []struct {
		op       string
		measured float64
		want     bool
	}{
		{"<", 1, true}, {"<", 2, false}, {"<=", 2, true}, {"<=", 3, false},
		{">", 3, true}, {">", 2, false}, {">=", 2, true}, {">=", 1, false},
		{"==", 2, true}, {"==", 1, false}, {"!=", 1, true}, {"!=", 2, false},
		{"=~", 2, false},
	}
	for _, c := range cases {
		if got := (Threshold{Op: c.op, Limit: 2}).Holds(c.measured); got != c.want {
			t.Errorf("%v %s 2 = %v, want %v", c.measured, c.op, got, c.want)
		}
	}
}
