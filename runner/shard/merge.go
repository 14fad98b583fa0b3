package shard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// Options configure Merge.
type Options struct {
	// Partial merges the shards given even when some are missing; the
	// merged run is then marked partial and says which.
	Partial bool
	// CommandLine and ToolVersion are recorded in the merged meta.json.
	CommandLine []string
	ToolVersion string
}

// Merge merges the run directories of the shards of one run, dirs, into
// the new run directory out, which must not exist. It is built in a
// temporary directory beside out and renamed into place, so out is
// complete or absent. Errors that wrap ErrMismatch say the directories do
// not belong together (nothing is written then).
func Merge(dirs []string, out string, opt Options) (*rundir.Meta, error) {
	ms, missing, err := load(dirs, opt.Partial)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("%w: --out %s already exists; merge into a new directory", ErrMismatch, out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(out), err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".merge-*")
	if err != nil {
		return nil, fmt.Errorf("create the merged run directory: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create the merged run directory: %w", err)
	}
	if err := rundir.WriteFile(filepath.Join(tmp, rundir.ScenarioFile), ms[0].scenario); err != nil {
		return nil, err
	}
	if err := copyThresholds(ms[0].dir.Path, tmp); err != nil {
		return nil, err
	}
	meta := mergeMeta(ms, missing, opt)
	for _, ref := range ms[0].dir.Meta.Runs {
		if err := mergeRun(ms, ref, filepath.Join(tmp, ref.Dir)); err != nil {
			return nil, fmt.Errorf("merge %s: %w", ref.Dir, err)
		}
	}
	if err := rundir.WriteJSON(filepath.Join(tmp, rundir.MetaFile), meta); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("create the merged run directory: %w", err)
	}
	done = true
	return meta, nil
}

// copyThresholds copies the thresholds.json of the run directory from
// into to, when it has one: the shards ran one scenario, so they recorded
// the same thresholds.
func copyThresholds(from, to string) error {
	ths, err := rundir.ReadThresholds(filepath.Join(from, rundir.ThresholdsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return rundir.WriteThresholds(filepath.Join(to, rundir.ThresholdsFile), ths)
}

// mergeMeta is the meta.json of the merged run.
func mergeMeta(ms []member, missing []int, opt Options) *rundir.Meta {
	meta := ms[0].dir.Meta
	meta.ToolVersion, meta.GoVersion, meta.CommandLine = opt.ToolVersion, runtime.Version(), opt.CommandLine
	meta.Shard = nil
	info := &rundir.MergeInfo{Count: ms[0].shard.Count, Missing: missing, MemoryFrom: ms[0].shard.Index}
	var hosts, reasons []string
	for _, m := range ms {
		mm := m.dir.Meta
		info.Shards = append(info.Shards, m.shard.Index)
		info.Dirs = append(info.Dirs, m.dir.Path)
		if !slices.Contains(hosts, mm.Host) {
			hosts = append(hosts, mm.Host)
		}
		if mm.Start.Before(meta.Start) {
			meta.Start = mm.Start
		}
		if mm.End.After(meta.End) {
			meta.End = mm.End
		}
		if mm.Partial {
			reasons = append(reasons, fmt.Sprintf("shard %d/%d: %s", m.shard.Index, m.shard.Count, mm.Reason))
		}
	}
	if len(missing) > 0 {
		reasons = append(reasons, fmt.Sprintf("merged without shard %s of %d (--partial)", joinInts(missing), info.Count))
	}
	meta.Host = strings.Join(hosts, ",")
	meta.Merged = info
	meta.Partial, meta.Reason = len(reasons) > 0, strings.Join(reasons, "; ")
	return &meta
}

// mergeRun merges one variant and repeat of the shards into dir.
func mergeRun(ms []member, ref rundir.RunRef, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	infos := make([]rundir.RunInfo, len(ms))
	for i, m := range ms {
		var err error
		if infos[i], err = m.dir.RunInfo(ref); err != nil {
			return err
		}
	}
	info := mergeInfo(ms, infos)
	n, err := mergeResults(ms, ref, dir, info.Start, probeNames(info.Probes))
	if err != nil {
		return err
	}
	if n == 0 {
		info.NoResults = "no request was sent by any shard"
	}
	// The target side, read once: every shard watched the same target.
	for _, name := range []string{rundir.MemoryFile, rundir.MemoryProcFile, rundir.MetricsFile, rundir.TargetLog} {
		if err := copyFile(ms[0].dir.File(ref, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	if err := mergeEvents(ms, ref, dir, info); err != nil {
		return err
	}
	return rundir.WriteJSON(filepath.Join(dir, rundir.RunFile), info)
}

// mergeInfo is the run.json of the merged variant and repeat: the first
// shard's, with the phases' clients, the requests, rates and CPU summed
// over the shards (per stream too), the worst send lag and harness
// memory, and every shard's warnings and errors, each naming its shard.
// The probes are those of the shard that ran them (shard 0; see
// runner's probes), taken once, never summed.
func mergeInfo(ms []member, infos []rundir.RunInfo) rundir.RunInfo {
	info := infos[0]
	info.Shard = nil
	info.Phases = slices.Clone(info.Phases)
	info.Harness = rundir.Harness{}
	info.Partial = false
	info.Probes = nil
	for _, in := range infos {
		if len(in.Probes) > 0 {
			info.Probes = in.Probes
			break
		}
	}
	streams := map[string]int{} // index in info.Harness.Streams by name
	var errs []string
	for i, in := range infos {
		name := fmt.Sprintf("shard %d/%d", ms[i].shard.Index, ms[i].shard.Count)
		if i > 0 {
			for j := range info.Phases {
				if j < len(in.Phases) {
					info.Phases[j].Concurrency += in.Phases[j].Concurrency
				}
			}
		}
		if in.Start.Before(info.Start) {
			info.Start = in.Start
		}
		if in.End.After(info.End) {
			info.End = in.End
		}
		addHarness(&info.Harness, in.Harness, name, streams)
		info.Partial = info.Partial || in.Partial
		if in.Error != "" {
			errs = append(errs, name+": "+in.Error)
		}
	}
	info.Error = strings.Join(errs, "; ")
	info.NoResults = ""
	return info
}

// addHarness adds one shard's harness figures, named name, to the merged
// h: counts and rates summed, send lags and RSS their maximum, warnings
// prefixed with name. streams maps a stream's name to its index in
// h.Streams.
func addHarness(h *rundir.Harness, in rundir.Harness, name string, streams map[string]int) {
	h.Requests += in.Requests
	h.RequestedRate += in.RequestedRate
	h.AchievedRate += in.AchievedRate
	h.SendLagP99 = max(h.SendLagP99, in.SendLagP99)
	h.SendLagMax = max(h.SendLagMax, in.SendLagMax)
	h.CPUSeconds += in.CPUSeconds
	h.CPUPercent += in.CPUPercent
	h.MaxRSS = max(h.MaxRSS, in.MaxRSS)
	for _, st := range in.Streams {
		j, ok := streams[st.Name]
		if !ok {
			j = len(h.Streams)
			streams[st.Name] = j
			h.Streams = append(h.Streams, rundir.StreamHarness{Name: st.Name})
		}
		hs := &h.Streams[j]
		hs.Requests += st.Requests
		hs.RequestedRate += st.RequestedRate
		hs.AchievedRate += st.AchievedRate
		hs.SendLagP99 = max(hs.SendLagP99, st.SendLagP99)
		hs.SendLagMax = max(hs.SendLagMax, st.SendLagMax)
	}
	for _, w := range in.Warnings {
		h.Warnings = append(h.Warnings, name+": "+w)
	}
}

// probeNames is the set of the probes' names: their results in
// results.bin are not traffic and stay out of the timeline, as the
// runner keeps them out.
func probeNames(ps []rundir.ProbeStats) map[string]bool {
	out := map[string]bool{}
	for _, p := range ps {
		out[p.Name] = true
	}
	return out
}

// copyFile copies src to dst atomically; a missing src is skipped.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	return rundir.WriteFile(dst, b)
}

// since returns t relative to start in seconds.
func since(t, start time.Time) float64 { return t.Sub(start).Seconds() }
