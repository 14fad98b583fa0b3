package shard

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// TestMergeThresholds: the merged run keeps the shards' thresholds.json,
// and a merge of shards written before that file has none.
func TestMergeThresholds(t *testing.T) {
	ths := []rundir.Threshold{{Expr: "all.p99 < 1s", Metric: "all.p99", Op: "<", Limit: 1}}
	for _, recorded := range []bool{true, false} {
		root := t.TempDir()
		var dirs []string
		for i := range 2 {
			dir := fake{index: i, count: 2, seed: 1}.write(t, root)
			if recorded {
				if err := rundir.WriteThresholds(filepath.Join(dir, rundir.ThresholdsFile), ths); err != nil {
					t.Fatal(err)
				}
			}
			dirs = append(dirs, dir)
		}
		out := filepath.Join(root, "merged")
		if _, err := Merge(dirs, out, Options{}); err != nil {
			t.Fatal(err)
		}
		got, err := rundir.ReadThresholds(filepath.Join(out, rundir.ThresholdsFile))
		switch {
		case recorded && (err != nil || !reflect.DeepEqual(got, ths)):
			t.Errorf("merged thresholds = %+v, %v; want %+v", got, err, ths)
		case !recorded && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("shards without thresholds.json: merged one reads %+v, %v; want none", got, err)
		}
	}
}
