package rundir

import "time"

// ShardInfo marks the run of one shard of a sharded run: shard Index of
// Count, which sent the global requests k with k mod Count == Index, from
// StartAt, the start all shards waited for.
type ShardInfo struct {
	Index   int       `json:"index"`
	Count   int       `json:"count"`
	StartAt time.Time `json:"start_at"`
	// Late is how many seconds after StartAt this shard's attack began
	// (0 when on time); the requests due meanwhile were sent at once.
	Late float64 `json:"late,omitempty"`
}

// MergeInfo says which shard run directories a merged run was made from.
type MergeInfo struct {
	Count int `json:"count"`
	// Shards are the indexes merged and Dirs their directories, in the
	// same order; Missing are the indexes left out (with --partial).
	Shards  []int    `json:"shards"`
	Dirs    []string `json:"dirs"`
	Missing []int    `json:"missing,omitempty"`
	// MemoryFrom is the shard whose memory, metrics and target-side
	// events were kept: they describe the shared target, read once.
	MemoryFrom int `json:"memory_from"`
}
