package main

import (
	"runtime/debug"
	"testing"
)

// TestVersionFrom checks the version's sources in order: -ldflags, the
// module version of "go install ...@version", the VCS revision of a
// checkout build ("go install ./cmd/sawtooth"), then "dev".
func TestVersionFrom(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "3a90ed5d79cf4cb7f97f760ee039abf9aa392748"}}
	dirty := append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, c := range []struct {
		ldflags string
		bi      *debug.BuildInfo
		want    string
	}{
		{"v1.0.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}}, "v1.0.0"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}, Settings: rev}, "v0.9.0"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "dev+3a90ed5d79cf"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, "dev+3a90ed5d79cf-dirty"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"dev", nil, "dev"},
	} {
		if got := versionFrom(c.ldflags, c.bi, c.bi != nil); got != c.want {
			t.Errorf("versionFrom(%q, %+v) = %q, want %q", c.ldflags, c.bi, got, c.want)
		}
	}
}
