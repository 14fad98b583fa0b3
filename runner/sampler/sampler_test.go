package sampler

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTree starts sh with children and returns it; the whole group is
// killed when the test ends.
func startTree(t testing.TB, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// waitFor samples until cond holds or 10 s pass.
func waitFor(t *testing.T, s *Sampler, cond func(Sample) bool) (Sample, []Change) {
	t.Helper()
	var all []Change
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		smp, ch, err := s.Sample()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ch...)
		if cond(smp) {
			return smp, all
		}
	}
	t.Fatal("condition not reached in 10s")
	return Sample{}, nil
}

func TestTreeRolesAndChanges(t *testing.T) {
	// sh (master) → sleep (worker) and sh (worker) → sleep (other).
	cmd := startTree(t, `sleep 60 & /bin/sh -c 'sleep 61 & wait' & wait`)
	s, err := New(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	_, changes := waitFor(t, s, func(smp Sample) bool { return len(smp.Procs) == 4 })
	// Let the new processes exec.
	time.Sleep(300 * time.Millisecond)
	smp, more := waitFor(t, s, func(smp Sample) bool { return len(smp.Procs) == 4 })
	if len(more) != 0 {
		t.Fatalf("tree changed: %+v", more)
	}
	roles := map[string]int{}
	var victim int
	for _, p := range smp.Procs {
		roles[p.Role]++
		if p.RSS <= 0 || p.PSS <= 0 || p.PSS > p.RSS {
			t.Errorf("pid %d: rss %d pss %d", p.PID, p.RSS, p.PSS)
		}
		if p.Role == RoleWorker {
			if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
				victim = p.PID
			}
		}
	}
	if roles[RoleMaster] != 1 || roles[RoleWorker] != 2 || roles[RoleOther] != 1 {
		t.Errorf("roles = %v", roles)
	}
	if smp.Procs[0].PID != cmd.Process.Pid || smp.Procs[0].Role != RoleMaster {
		t.Errorf("first process %+v is not the root", smp.Procs[0])
	}
	spawns := 0
	for _, c := range changes {
		if c.Spawn {
			spawns++
		}
	}
	if spawns != 4 {
		t.Errorf("%d spawns, want 4", spawns)
	}
	if smp.TotalPSS() > smp.TotalRSS() {
		t.Errorf("total PSS %d > RSS %d", smp.TotalPSS(), smp.TotalRSS())
	}

	syscall.Kill(victim, syscall.SIGKILL)
	_, changes = waitFor(t, s, func(smp Sample) bool { return len(smp.Procs) == 3 })
	found := false
	for _, c := range changes {
		if !c.Spawn && c.Proc.PID == victim && c.Proc.Role == RoleWorker {
			found = true
		}
	}
	if !found {
		t.Errorf("no exit change for %d: %+v", victim, changes)
	}
	// The killed process is no survivor; the live ones are.
	left := s.Survivors(0)
	if len(left) != 3 || slices.Contains(left, victim) {
		t.Errorf("survivors = %v (victim %d)", left, victim)
	}
	if g := survivors(s.fs, cmd.Process.Pid, nil); len(g) != 3 {
		t.Errorf("group survivors = %v, want 3", g)
	}
}

// The sampler forgets processes that exited, so its memory does not grow
// with the number of workers a run recycles, but remembers one that left
// the tree alive, so a stop still finds it.
func TestSeenForgetsTheDead(t *testing.T) {
	// A master that spawns short-lived children one after another.
	cmd := startTree(t, `while :; do sleep 0.03; done`)
	s, err := New(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	exits := 0
	for deadline := time.Now().Add(10 * time.Second); exits < 20 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		_, ch, err := s.Sample()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ch {
			if !c.Spawn {
				exits++
			}
		}
	}
	if exits < 20 {
		t.Fatalf("saw %d exits in 10s, want 20", exits)
	}
	// The master and at most its current child.
	if len(s.seen) > 2 {
		t.Errorf("sampler remembers %d processes after %d exits, want at most 2", len(s.seen), exits)
	}

	// master → middle → orphan; middle exits (a zombie its master never
	// reaps) and orphan is reparented out of the tree, still alive.
	cmd = startTree(t, `/bin/sh -c 'sleep 57 & exec sleep 2' & exec sleep 58`)
	s, err = New(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	smp, _ := waitFor(t, s, func(smp Sample) bool { return len(smp.Procs) == 3 })
	var middle, orphan int
	for _, p := range smp.Procs {
		switch p.Role {
		case RoleWorker:
			middle = p.PID
		case RoleOther:
			orphan = p.PID
		}
	}
	waitFor(t, s, func(smp Sample) bool { return len(smp.Procs) == 1 })
	left := s.Survivors(0)
	if !slices.Contains(left, orphan) || slices.Contains(left, middle) || len(s.seen) != 2 {
		t.Errorf("survivors %v (orphan %d, middle %d), seen %v; want the master and the orphan", left, orphan, middle, s.seen)
	}
}

func TestGoneRoot(t *testing.T) {
	s, err := New(1 << 30) // no such pid
	if err != nil {
		t.Fatal(err)
	}
	smp, ch, err := s.Sample()
	if err != nil || len(smp.Procs) != 0 || len(ch) != 0 {
		t.Errorf("sample of a missing root: %+v %v %v", smp, ch, err)
	}
}

// BenchmarkSample20 samples a tree of 20 processes (the root and 19
// children), PSS included. At 10 Hz the sampler costs 10 × ns/op of CPU
// per second; the cpu-%/10Hz metric reports it as a percentage of a core.
func BenchmarkSample20(b *testing.B) {
	script := strings.Repeat("sleep 300 & ", 19) + "wait"
	cmd := startTree(b, script)
	s, err := New(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		smp, _, _ := s.Sample()
		if len(smp.Procs) == 20 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("tree has %d processes, want 20", len(smp.Procs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if smp, _, _ := s.Sample(); len(smp.Procs) != 20 {
			b.Fatalf("%d processes", len(smp.Procs))
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime)+syscall.TimevalToNsec(ru1.Stime)) -
		time.Duration(syscall.TimevalToNsec(ru0.Utime)+syscall.TimevalToNsec(ru0.Stime))
	perSample := cpu / time.Duration(b.N)
	b.ReportMetric(float64(perSample)*10/1e9*100, "cpu-%/10Hz")
}
