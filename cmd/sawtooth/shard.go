package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/runner/attack"
)

// shardFlags reads "run --shard I/N --start-at TIME". A sharded run needs
// a start time, so that the shards begin together.
func shardFlags(c *cli.Context, now time.Time) (attack.Shard, time.Time, error) {
	var sh attack.Shard
	var at time.Time
	if c.IsSet("shard") {
		var err error
		if sh, err = attack.ParseShard(c.String("shard")); err != nil {
			return sh, at, usageError("run: --%v", err)
		}
	}
	if c.IsSet("start-at") {
		var err error
		if at, err = parseStartAt(c.String("start-at"), now); err != nil {
			return sh, at, usageError("run: --start-at: %v", err)
		}
	}
	if sh.Sharded() && at.IsZero() {
		return sh, at, usageError("run: --shard %v needs --start-at TIME, the same for every shard, so that they start together", sh)
	}
	return sh, at, nil
}

// parseStartAt parses an RFC 3339 time or +DURATION from now.
func parseStartAt(s string, now time.Time) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("want +DURATION such as +30s, got %q", s)
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time such as 2026-12-01T10:00:00Z or +30s, got %q", s)
	}
	return t, nil
}
