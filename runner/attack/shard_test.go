package attack

import (
	"slices"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// planned drives the Pacer of shard sh on a virtual clock, sending each
// request the moment it is due, and returns the planned send offsets of
// its open-model requests and their global indexes. seed seeds Poisson
// segments.
func planned(t *testing.T, segs []Segment, sh Shard, seed uint64) (sent []time.Duration, ks []uint64) {
	t.Helper()
	p := NewShardPacer(segs, sh, nil)
	p.Seed(seed)
	p.indexed = true
	base := time.Unix(1000, 0)
	var elapsed time.Duration
	p.now = func() time.Time { return base.Add(elapsed) }
	p.fakeSleep = func(d time.Duration) { elapsed += max(d, 0) }
	for hits := uint64(0); ; hits++ {
		_, stop := p.Pace(elapsed, hits)
		if stop {
			return sent, ks
		}
		due, ok := p.Due(hits)
		if !ok {
			t.Fatalf("shard %v: request %d has no due time", sh, hits)
		}
		tk, ok := p.ticks.pop()
		if !ok {
			t.Fatalf("shard %v: request %d has no tick", sh, hits)
		}
		sent = append(sent, due.Sub(base))
		ks = append(ks, tk.k)
	}
}

// For N in 1..7, over constant and ramp phases, the union of the shards'
// planned send times is exactly the single process's plan, each shard
// sends the global indexes k ≡ I (mod N) at the single process's time
// for k, and the shards' sizes differ by at most one per phase.
func TestShardScheduleUnion(t *testing.T) {
	segs := []Segment{
		{Name: "const", Duration: 2 * time.Second, From: 97, To: 97},
		{Name: "up", Duration: 3 * time.Second, From: 10, To: 211},
		{Name: "idle", Duration: 500 * time.Millisecond},
		{Name: "down", Duration: 2 * time.Second, From: 150, To: 3},
	}
	single, singleK := planned(t, segs, Shard{}, 0)
	for i, k := range singleK {
		if k != uint64(i) {
			t.Fatalf("single process: request %d has global index %d", i, k)
		}
	}
	starts := NewPacer(segs, nil).Starts()
	phaseOf := func(d time.Duration) int {
		for j := len(starts) - 1; j >= 0; j-- {
			if d >= starts[j] {
				return j
			}
		}
		return 0
	}
	for n := 1; n <= 7; n++ {
		var union []time.Duration
		sizes := make([][]int, n)
		for i := 0; i < n; i++ {
			sent, ks := planned(t, segs, Shard{Index: i, Count: n}, 0)
			sizes[i] = make([]int, len(segs))
			for j, k := range ks {
				if int(k%uint64(n)) != i {
					t.Fatalf("N=%d shard %d sent global index %d", n, i, k)
				}
				if k >= uint64(len(single)) || single[k] != sent[j] {
					t.Fatalf("N=%d shard %d: index %d at %v, single process at %v", n, i, k, sent[j], single[min(k, uint64(len(single)-1))])
				}
				sizes[i][phaseOf(sent[j])]++
			}
			union = append(union, sent...)
		}
		slices.Sort(union)
		if !slices.Equal(union, single) {
			t.Fatalf("N=%d: union of %d planned send times differs from the single process's %d", n, len(union), len(single))
		}
		for j := range segs {
			lo, hi := sizes[0][j], sizes[0][j]
			for i := range n {
				lo, hi = min(lo, sizes[i][j]), max(hi, sizes[i][j])
			}
			if hi-lo > 1 {
				t.Errorf("N=%d phase %s: shard sizes from %d to %d, want within one", n, segs[j].Name, lo, hi)
			}
		}
	}
	// 97×2 + (10+211)/2×3 + (150+3)/2×2 = 678.5 requests are due.
	if len(single) < 677 || len(single) > 680 {
		t.Fatalf("single process plans %d requests, want the phases' ~679", len(single))
	}
}

// Sharding applies per stream: each stream's Pacer stripes its own
// schedule (evenly spaced or Poisson, from the stream's seed), so for N in
// 1..7 the union of the shards' planned send times of each stream is
// exactly that stream's single-process plan, as Schedule gives it, and
// each shard sends of each stream the indexes k ≡ I (mod N).
func TestShardScheduleUnionStreams(t *testing.T) {
	streams := []struct {
		name string
		segs []Segment
		seed uint64
	}{
		{"api", []Segment{
			{Name: "const", Duration: 2 * time.Second, From: 83, To: 83},
			{Name: "closed", Duration: time.Second, Concurrency: 5},
			{Name: "up", Duration: 2 * time.Second, From: 20, To: 140},
		}, 11},
		{"batch", []Segment{
			{Name: "poisson", Duration: 3 * time.Second, From: 61, To: 61, Poisson: true},
			{Name: "poisson ramp", Duration: 2 * time.Second, From: 90, To: 10, Poisson: true},
		}, 11 + 0x3c6ef372},
	}
	for _, st := range streams {
		single, singleK := planned(t, st.segs, Shard{}, st.seed)
		if want := Schedule(st.segs, st.seed); !slices.Equal(single, want) {
			t.Fatalf("stream %s: the single process sends %d requests, Schedule plans %d (or at other times)", st.name, len(single), len(want))
		}
		for i, k := range singleK {
			if k != uint64(i) {
				t.Fatalf("stream %s: request %d has global index %d", st.name, i, k)
			}
		}
		for n := 1; n <= 7; n++ {
			var union []time.Duration
			for i := range n {
				sent, ks := planned(t, st.segs, Shard{Index: i, Count: n}, st.seed)
				for j, k := range ks {
					if int(k%uint64(n)) != i {
						t.Fatalf("stream %s N=%d shard %d sent index %d", st.name, n, i, k)
					}
					if k >= uint64(len(single)) || single[k] != sent[j] {
						t.Fatalf("stream %s N=%d shard %d: index %d at %v, not the single process's time", st.name, n, i, k, sent[j])
					}
				}
				union = append(union, sent...)
			}
			slices.Sort(union)
			if !slices.Equal(union, single) {
				t.Fatalf("stream %s N=%d: union of %d planned send times differs from the single process's %d", st.name, n, len(union), len(single))
			}
		}
	}
	// A Poisson stream's count is the uniform one's: 61×3 + 50×2.
	if got := Schedule(streams[1].segs, streams[1].seed); len(got) != 283 {
		t.Errorf("Poisson stream plans %d requests, want 283", len(got))
	}
}

// Closed-model clients are split as evenly as possible and sum to the
// phase's concurrency.
func TestShardClients(t *testing.T) {
	for _, c := range []int{0, 1, 5, 7, 64} {
		for n := 1; n <= 7; n++ {
			sum, lo, hi := 0, c, 0
			for i := range n {
				s := Shard{Index: i, Count: n}.Clients(c)
				sum += s
				lo, hi = min(lo, s), max(hi, s)
			}
			if sum != c || hi-lo > 1 {
				t.Errorf("c=%d N=%d: shares sum to %d (want %d), from %d to %d", c, n, sum, c, lo, hi)
			}
		}
	}
}

// A shard picks, for every global index, the class the single process
// picks: the class depends on the seed and the index alone.
func TestIndexedClasses(t *testing.T) {
	tg, err := NewTargeter([]Class{{Name: "a", Weight: 3, URL: "http://127.0.0.1/a"}, {Name: "b", Weight: 1, URL: "http://127.0.0.1/b"}}, 7)
	if err != nil {
		t.Fatal(err)
	}
	segs := []Segment{{Name: "c", Duration: time.Second, From: 400, To: 400}}
	run := func(sh Shard) map[uint64]string {
		p := NewShardPacer(segs, sh, nil)
		tr := IndexedTargeter(tg, p, [][]float64{nil}, 7)
		base := time.Unix(1000, 0)
		var elapsed time.Duration
		p.now = func() time.Time { return base.Add(elapsed) }
		p.fakeSleep = func(d time.Duration) { elapsed += max(d, 0) }
		out := map[uint64]string{}
		for hits := uint64(0); ; hits++ {
			if _, stop := p.Pace(elapsed, hits); stop {
				return out
			}
			k := p.ticks.buf[p.ticks.head].k
			var v vegetaTarget
			if err := tr(&v.t); err != nil {
				t.Fatal(err)
			}
			out[k] = v.t.URL
		}
	}
	single := run(Shard{})
	a := 0
	for _, u := range single {
		if u == "http://127.0.0.1/a#a" {
			a++
		}
	}
	if share := float64(a) / float64(len(single)); share < 0.7 || share > 0.8 {
		t.Errorf("share of a = %.3f, want 0.75 ±0.05", share)
	}
	for i := range 3 {
		for k, u := range run(Shard{Index: i, Count: 3}) {
			if single[k] != u {
				t.Fatalf("shard %d/3: index %d got %s, single process %s", i, k, u, single[k])
			}
		}
	}
}

type vegetaTarget struct{ t vegeta.Target }

// A shard's accounted share divides open-model rates by N and keeps a
// closed-model phase closed even when the shard's share of its clients is
// 0, so that its duration does not count as an open phase of rate 0.
func TestShardShare(t *testing.T) {
	segs := []Segment{{Duration: time.Second, From: 30, To: 90}, {Duration: time.Second, Concurrency: 2}}
	share := Shard{Index: 2, Count: 3}.Share(segs)
	if share[0].From != 10 || share[0].To != 30 || !share[0].Open() {
		t.Errorf("open share = %+v, want 10 to 30 req/s", share[0])
	}
	if share[1].Open() {
		t.Errorf("closed phase with no clients for shard 2/3 accounted as open: %+v", share[1])
	}
	if run := (Shard{Index: 2, Count: 3}).Segments(segs); run[1].Concurrency != 0 {
		t.Errorf("shard 2/3 runs %d clients of 2, want 0 (idle)", run[1].Concurrency)
	}
}
