// Package sampler reads the memory and CPU of a process tree: a root
// process and all its descendants, found through /proc and read with
// prometheus/procfs. Diffing successive samples tells which processes were
// spawned and which exited.
package sampler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/prometheus/procfs"
)

// Roles of processes in a tree.
const (
	RoleMaster = "master" // the root
	RoleWorker = "worker" // a child of the root
	RoleOther  = "other"  // any deeper descendant
)

// Proc is one process in one sample.
type Proc struct {
	PID, PPID int
	Role      string
	RSS       int64   // bytes
	PSS       int64   // bytes; -1 when smaps_rollup could not be read
	CPU       float64 // cumulative user+system seconds
	// Start is the process's start time in clock ticks since boot; with
	// PID it identifies a process even when its pid is reused.
	Start uint64
}

// Sample is the tree at one moment.
type Sample struct {
	Time  time.Time
	Procs []Proc // root first, then in the order found
}

// TotalRSS returns the summed RSS of every process.
func (s *Sample) TotalRSS() int64 {
	var n int64
	for _, p := range s.Procs {
		n += p.RSS
	}
	return n
}

// TotalPSS returns the summed PSS of every process whose PSS was read.
func (s *Sample) TotalPSS() int64 {
	var n int64
	for _, p := range s.Procs {
		n += max(p.PSS, 0)
	}
	return n
}

// Change is a process that appeared or disappeared between two samples.
type Change struct {
	Spawn bool // true: appeared; false: exited
	Proc  Proc
}

// Sampler samples the tree under one root pid. It is not safe for
// concurrent use.
type Sampler struct {
	fs   procfs.FS
	root int
	// PSS turns reading smaps_rollup on (it costs a page-table walk per
	// process, so it can be turned off for huge trees).
	PSS bool

	prev  map[key]Proc
	files map[int]*procFiles
	// seen remembers every process sampled that has not exited, so that
	// a stopped target's survivors can be found even if they left its
	// group.
	seen map[key]struct{}
	buf  []byte
}

type key struct {
	pid   int
	start uint64
}

// New returns a Sampler for the tree rooted at pid, reading /proc.
func New(pid int) (*Sampler, error) {
	f, err := procfs.NewFS(procfs.DefaultMountPoint)
	if err != nil {
		return nil, fmt.Errorf("sampler: %w", err)
	}
	return &Sampler{fs: f, root: pid, PSS: true, prev: map[key]Proc{}, seen: map[key]struct{}{},
		files: map[int]*procFiles{}, buf: make([]byte, 0, 8<<10)}, nil
}

// Sample reads the tree now. When the root has exited it returns an
// empty sample. Changes lists the processes spawned and exited since the
// previous call.
func (s *Sampler) Sample() (Sample, []Change, error) {
	smp := Sample{Time: time.Now()}
	procs, cur, visited := s.walk()
	smp.Procs = procs
	changes := s.changes(smp.Procs, cur)
	s.prev = cur
	for pid, pf := range s.files {
		if !visited[pid] || !containsPID(smp.Procs, pid) {
			pf.close()
			delete(s.files, pid)
		}
	}
	return smp, changes, nil
}

// walk reads the tree breadth first from the root, skipping a child whose
// parent is no longer the one it was found under. It returns the
// processes read, in that order, keyed too, and the pids visited.
func (s *Sampler) walk() (procs []Proc, cur map[key]Proc, visited map[int]bool) {
	cur = make(map[key]Proc, len(s.prev))
	type item struct{ pid, ppid, depth int }
	queue := []item{{s.root, 0, 0}}
	visited = map[int]bool{}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if visited[it.pid] {
			continue
		}
		visited[it.pid] = true
		p, ok := s.read(it.pid)
		if !ok {
			continue
		}
		if it.depth > 0 && p.PPID != it.ppid {
			continue // reparented or a reused pid
		}
		switch it.depth {
		case 0:
			p.Role = RoleMaster
		case 1:
			p.Role = RoleWorker
		default:
			p.Role = RoleOther
		}
		procs = append(procs, p)
		k := key{p.PID, p.Start}
		cur[k] = p
		s.seen[k] = struct{}{}
		for _, c := range s.children(it.pid) {
			queue = append(queue, item{c, it.pid, it.depth + 1})
		}
	}
	return procs, cur, visited
}

// changes lists the processes of procs (keyed in cur) spawned and those
// exited since the previous sample, and forgets the exited that are dead.
func (s *Sampler) changes(procs []Proc, cur map[key]Proc) []Change {
	var changes []Change
	for _, p := range procs {
		if _, ok := s.prev[key{p.PID, p.Start}]; !ok {
			changes = append(changes, Change{Spawn: true, Proc: p})
		}
	}
	for k, p := range s.prev {
		if _, ok := cur[k]; !ok {
			changes = append(changes, Change{Spawn: false, Proc: p})
			if !s.alive(k) {
				// Only a process that left the tree alive can survive a
				// stop; forgetting the dead keeps seen as small as the
				// tree, however many workers a long run recycles.
				delete(s.seen, k)
			}
		}
	}
	return changes
}

// Track walks the tree now and remembers every process in it for
// Survivors, without sampling memory or recording changes: it is cheap
// enough to run often while a target starts, so that a child that leaves
// the process group (setsid) and outlives its parent is known even if the
// target dies or never becomes ready before the first Sample.
func (s *Sampler) Track() {
	queue := [][2]int{{s.root, 0}} // pid, expected ppid (0: the root)
	visited := map[int]bool{}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if visited[it[0]] {
			continue
		}
		visited[it[0]] = true
		pf, err := openProc(it[0], false)
		if err != nil {
			continue
		}
		st, err := pf.readStat(s.buf[:cap(s.buf)])
		if err != nil || st.state == 'Z' || st.state == 'X' || (it[1] != 0 && st.ppid != it[1]) {
			pf.close()
			continue
		}
		s.seen[key{it[0], st.start}] = struct{}{}
		kids, err := pf.children(s.buf[:cap(s.buf)], it[0] == s.root)
		pf.close()
		if errors.Is(err, fs.ErrNotExist) {
			kids = s.scanChildren(it[0])
		}
		for _, c := range kids {
			queue = append(queue, [2]int{c, it[0]})
		}
	}
}

// read reads one process; false when it has gone.
func (s *Sampler) read(pid int) (Proc, bool) {
	pf := s.files[pid]
	if pf == nil {
		var err error
		if pf, err = openProc(pid, s.PSS); err != nil {
			return Proc{}, false
		}
		s.files[pid] = pf
	}
	st, err := pf.readStat(s.buf[:cap(s.buf)])
	if err != nil || st.state == 'Z' || st.state == 'X' {
		pf.close()
		delete(s.files, pid)
		return Proc{}, false
	}
	p := Proc{PID: pid, PPID: st.ppid, RSS: st.rss, PSS: -1, CPU: st.cpu, Start: st.start}
	if s.PSS {
		rss, pss, err := pf.readRollup(s.buf[:cap(s.buf)])
		if err != nil {
			// A process that is exiting has released its address space
			// before it becomes a zombie: smaps_rollup reads empty and
			// stat shows no resident pages. It is gone for this sample.
			if st, err := pf.readStat(s.buf[:cap(s.buf)]); err != nil || st.rss == 0 || st.state == 'Z' || st.state == 'X' {
				pf.close()
				delete(s.files, pid)
				return Proc{}, false
			}
		} else {
			p.RSS, p.PSS = rss, pss
		}
	}
	return p, true
}

// alive reports whether the process k still runs: neither a zombie nor
// exiting (an exiting process has released its address space).
func (s *Sampler) alive(k key) bool {
	pf, err := openProc(k.pid, false)
	if err != nil {
		return false
	}
	defer pf.close()
	st, err := pf.readStat(s.buf[:cap(s.buf)])
	return err == nil && st.start == k.start && st.rss > 0 && st.state != 'Z' && st.state != 'X'
}

// children lists the child pids of pid from the children files of all
// its threads, falling back to a scan of /proc when the kernel has none.
func (s *Sampler) children(pid int) []int {
	pf := s.files[pid]
	if pf == nil {
		return nil
	}
	kids, err := pf.children(s.buf[:cap(s.buf)], pid == s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return s.scanChildren(pid)
	}
	return kids
}

func (s *Sampler) scanChildren(pid int) []int {
	procs, err := s.fs.AllProcs()
	if err != nil {
		return nil
	}
	var out []int
	for _, p := range procs {
		if st, err := p.Stat(); err == nil && st.PPID == pid {
			out = append(out, p.PID)
		}
	}
	return out
}

func containsPID(ps []Proc, pid int) bool {
	for _, p := range ps {
		if p.PID == pid {
			return true
		}
	}
	return false
}

// Close releases the files the sampler holds open.
func (s *Sampler) Close() {
	for pid, pf := range s.files {
		pf.close()
		delete(s.files, pid)
	}
}

// Survivors returns the processes still alive that are in process group
// pgid (none when pgid is 0) or that the sampler has seen in the tree,
// excluding the caller.
func (s *Sampler) Survivors(pgid int) []int {
	return survivors(s.fs, pgid, s.seen)
}

// survivors returns the live, non-zombie processes in process group pgid
// or among seen (pid and start time), excluding the calling process.
func survivors(f procfs.FS, pgid int, seen map[key]struct{}) []int {
	var out []int
	procs, err := f.AllProcs()
	if err != nil {
		return nil
	}
	self := os.Getpid()
	for _, p := range procs {
		if p.PID == self {
			continue
		}
		st, err := p.Stat()
		if err != nil || st.State == "Z" || st.State == "X" {
			continue
		}
		_, known := seen[key{p.PID, st.Starttime}]
		if (pgid > 0 && st.PGRP == pgid) || known {
			out = append(out, p.PID)
		}
	}
	return out
}
