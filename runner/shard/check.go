// Package shard merges the run directories of a sharded run ("sawtooth
// run --shard I/N") into one run directory that reports read as if one
// process had run it: it checks that the shards belong together, merges
// their raw results by time (so percentiles stay exact), recomputes the
// timeline from them, and keeps the target side (memory, metrics, its
// events) once, from one shard, since every shard watched the same
// target.
package shard

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// ErrMismatch is wrapped by the errors that say the directories given are
// not the shards of one run (bad input rather than a failure to write).
var ErrMismatch = errors.New("the run directories are not the shards of one run")

// member is one shard's run directory.
type member struct {
	dir      *rundir.Dir
	shard    rundir.ShardInfo
	scenario []byte
}

func mismatch(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMismatch, fmt.Sprintf(format, args...))
}

// load opens the shard run directories and checks that they belong
// together: every one a shard (meta.json has "shard"), of the same
// scenario (scenario.yaml byte for byte), seed, shard count and start
// time, with the same variants and repeats, and no shard twice. Missing
// shards are an error unless partial. It returns the shards in order of
// index and the indexes missing.
func load(dirs []string, partial bool) ([]member, []int, error) {
	if len(dirs) == 0 {
		return nil, nil, mismatch("no run directory given")
	}
	var ms []member
	for _, p := range dirs {
		d, err := rundir.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMismatch, err)
		}
		if d.Meta.Shard == nil {
			return nil, nil, mismatch("%s is not a shard's run: its meta.json has no \"shard\" (record shards with sawtooth run --shard I/N --start-at TIME)", p)
		}
		if d.Meta.Merged != nil {
			return nil, nil, mismatch("%s is already a merged run", p)
		}
		yml, err := os.ReadFile(filepath.Join(p, rundir.ScenarioFile))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMismatch, err)
		}
		ms = append(ms, member{dir: d, shard: *d.Meta.Shard, scenario: yml})
	}
	slices.SortStableFunc(ms, func(a, b member) int { return a.shard.Index - b.shard.Index })
	first := ms[0]
	for _, m := range ms[1:] {
		if err := same(first, m); err != nil {
			return nil, nil, err
		}
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].shard.Index == ms[i-1].shard.Index {
			return nil, nil, mismatch("shard %d/%d given twice: %s and %s", ms[i].shard.Index, ms[i].shard.Count, ms[i-1].dir.Path, ms[i].dir.Path)
		}
	}
	var missing []int
	have := map[int]bool{}
	for _, m := range ms {
		have[m.shard.Index] = true
	}
	for i := range first.shard.Count {
		if !have[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 && !partial {
		return nil, nil, mismatch("shard %s of %d missing (got %d of %d shards); merge what there is with --partial", joinInts(missing), first.shard.Count, len(ms), first.shard.Count)
	}
	return ms, missing, nil
}

// same checks that shard m belongs with shard a.
func same(a, m member) error {
	am, mm := a.dir.Meta, m.dir.Meta
	switch {
	case am.Scenario != mm.Scenario:
		return mismatch("%s ran scenario %q, %s scenario %q", a.dir.Path, am.Scenario, m.dir.Path, mm.Scenario)
	case !bytes.Equal(a.scenario, m.scenario):
		return mismatch("%s and %s ran scenario %q with different settings (their %s differ)", a.dir.Path, m.dir.Path, am.Scenario, rundir.ScenarioFile)
	case am.Seed != mm.Seed:
		return mismatch("%s ran with --seed %d, %s with --seed %d", a.dir.Path, am.Seed, m.dir.Path, mm.Seed)
	case am.Quick != mm.Quick:
		return mismatch("%s and %s differ in --quick", a.dir.Path, m.dir.Path)
	case a.shard.Count != m.shard.Count:
		return mismatch("%s is shard %d/%d, %s shard %d/%d: different shard counts", a.dir.Path, a.shard.Index, a.shard.Count, m.dir.Path, m.shard.Index, m.shard.Count)
	case !a.shard.StartAt.Equal(m.shard.StartAt):
		return mismatch("%s started at %s, %s at %s: shards of one run share --start-at", a.dir.Path, a.shard.StartAt.Format(time.RFC3339Nano), m.dir.Path, m.shard.StartAt.Format(time.RFC3339Nano))
	case !slices.Equal(am.Runs, mm.Runs):
		return mismatch("%s and %s recorded different variants or repeats", a.dir.Path, m.dir.Path)
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
