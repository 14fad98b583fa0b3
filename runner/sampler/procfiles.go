package sampler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// procFiles holds a process's /proc files open between samples and
// re-reads them with pread: at 10 Hz over dozens of processes, opening
// and closing every file on each sample (as procfs does) would cost
// several times more CPU than reading them.
type procFiles struct {
	pid     int
	stat    int // fd of /proc/PID/stat
	smaps   int // fd of /proc/PID/smaps_rollup, -1 if unreadable
	tasks   []int
	tasksAt time.Time
}

// taskRefresh is how often the list of a non-root process's threads is
// re-read; the root's is re-read on every sample.
const taskRefresh = time.Second

var pageSize = int64(os.Getpagesize())

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

func openProc(pid int, pss bool) (*procFiles, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	fd, err := syscall.Open(dir+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	pf := &procFiles{pid: pid, stat: fd, smaps: -1}
	if pss {
		if fd, err := syscall.Open(dir+"/smaps_rollup", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err == nil {
			pf.smaps = fd
		}
	}
	return pf, nil
}

func (pf *procFiles) close() {
	syscall.Close(pf.stat)
	if pf.smaps >= 0 {
		syscall.Close(pf.smaps)
	}
	pf.closeTasks()
}

func (pf *procFiles) closeTasks() {
	for _, fd := range pf.tasks {
		syscall.Close(fd)
	}
	pf.tasks = nil
}

// pread reads a whole /proc file from its start into buf (truncated to
// buf, which is enough for the fields read). These files are generated
// on every read, the whole of smaps_rollup at once with a walk of the
// page tables, and a read fills the buffer as far as it can; so a short
// read is the end, and reading again to see EOF would walk them twice.
func pread(fd int, buf []byte) ([]byte, error) {
	n, err := syscall.Pread(fd, buf, 0)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

type statFields struct {
	state byte
	ppid  int
	cpu   float64
	start uint64
	rss   int64
}

var errShortStat = errors.New("short /proc/PID/stat")

// readStat parses /proc/PID/stat: state, ppid, utime+stime, starttime
// and rss (fields 3, 4, 14, 15, 22 and 24 of proc(5)).
func (pf *procFiles) readStat(buf []byte) (statFields, error) {
	b, err := pread(pf.stat, buf)
	if err != nil {
		return statFields{}, err
	}
	// The command name is in parentheses and may contain anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return statFields{}, errShortStat
	}
	f := bytes.Fields(b[i+2:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return statFields{}, errShortStat
	}
	num := func(k int) uint64 {
		v, _ := strconv.ParseUint(string(f[k-3]), 10, 64)
		return v
	}
	return statFields{
		state: f[0][0],
		ppid:  int(num(4)),
		cpu:   float64(num(14)+num(15)) / clockTicks,
		start: num(22),
		rss:   int64(num(24)) * pageSize,
	}, nil
}

var (
	rssKey = []byte("\nRss:")
	pssKey = []byte("\nPss:")
)

// readRollup returns the Rss and Pss lines of smaps_rollup in bytes. Both
// come from one walk of the page tables, so they are consistent (PSS never
// exceeds RSS), unlike the RSS of /proc/PID/stat, which the kernel keeps in
// approximate per-CPU counters. The open file is bound to the address space
// the process had when it was opened, so after an exec it reads nothing:
// then it is opened again.
func (pf *procFiles) readRollup(buf []byte) (rss, pss int64, err error) {
	if pf.smaps < 0 {
		return 0, 0, os.ErrNotExist
	}
	b, err := pread(pf.smaps, buf)
	if err != nil || !bytes.Contains(b, pssKey) {
		syscall.Close(pf.smaps)
		pf.smaps, err = syscall.Open("/proc/"+strconv.Itoa(pf.pid)+"/smaps_rollup", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			pf.smaps = -1
			return 0, 0, err
		}
		if b, err = pread(pf.smaps, buf); err != nil {
			return 0, 0, err
		}
	}
	if rss, err = rollupField(b, rssKey); err != nil {
		return 0, 0, err
	}
	if pss, err = rollupField(b, pssKey); err != nil {
		return 0, 0, err
	}
	return rss, pss, nil
}

// rollupField returns the value in bytes of the smaps_rollup line that
// starts with key ("Pss:"), given in kB.
func rollupField(b, key []byte) (int64, error) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, fmt.Errorf("no %s in smaps_rollup", key)
	}
	f := bytes.Fields(b[i+len(key):])
	if len(f) < 2 {
		return 0, fmt.Errorf("short %s line in smaps_rollup", key)
	}
	kb, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s in smaps_rollup: %w", key, err)
	}
	return kb << 10, nil
}

// children returns the pids in the children files of the process's
// threads; the thread list is re-read when refresh is set or stale.
func (pf *procFiles) children(buf []byte, refresh bool) ([]int, error) {
	if refresh || pf.tasks == nil || time.Since(pf.tasksAt) > taskRefresh {
		if err := pf.openTasks(); err != nil {
			return nil, err
		}
	}
	var out []int
	for _, fd := range pf.tasks {
		b, err := pread(fd, buf)
		if err != nil {
			pf.tasksAt = time.Time{} // a thread ended: re-list next time
			continue
		}
		for _, w := range bytes.Fields(b) {
			if c, err := strconv.Atoi(string(w)); err == nil {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

func (pf *procFiles) openTasks() error {
	dir := "/proc/" + strconv.Itoa(pf.pid) + "/task/"
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	pf.closeTasks()
	for _, tid := range names {
		fd, err := syscall.Open(dir+tid+"/children", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if errors.Is(err, syscall.ENOENT) {
			if _, serr := os.Stat(dir + tid); serr == nil {
				// The thread exists but the kernel has no children files.
				return os.ErrNotExist
			}
			continue
		}
		if err != nil {
			continue
		}
		pf.tasks = append(pf.tasks, fd)
	}
	pf.tasksAt = time.Now()
	return nil
}
