package server

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sawtooth-dev/sawtooth/server/control"
	"github.com/sawtooth-dev/sawtooth/server/loop"
	"github.com/sawtooth-dev/sawtooth/server/worker"
)

// ChildEnv is the environment variable that makes the sawtooth binary (or a
// test binary) run a child role instead of its main: RunChild dispatches on
// it.
const ChildEnv = loop.ChildEnv

// Child roles.
const (
	// RoleWorker is a worker process of "sawtooth serve".
	RoleWorker = "worker"
	// RoleOffload is an offload child of a loop worker (--offload
	// processes); it is loop.ChildEnvOffload.
	RoleOffload = loop.ChildEnvOffload
)

// workerConfigEnv carries a worker's Config as JSON.
const workerConfigEnv = "SAWTOOTH_WORKER_CONFIG"

// File descriptors a worker inherits (ExtraFiles start at 3).
const (
	listenerFD = 3
	controlFD  = 4
)

// RunChild runs the child role named by $SAWTOOTH_CHILD to completion and
// exits the process. It returns false, doing nothing, when the variable is
// unset. Call it first thing in main and in TestMain of packages whose tests
// start servers.
func RunChild() bool {
	role := os.Getenv(ChildEnv)
	switch role {
	case "":
		return false
	case RoleWorker:
		os.Exit(runWorker(registry()))
	case RoleOffload:
		if err := loop.RunOffloadChild(); err != nil {
			fmt.Fprintln(os.Stderr, "sawtooth:", err)
			os.Exit(1)
		}
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "sawtooth: unknown child role %s=%q\n", ChildEnv, role)
		os.Exit(2)
	}
	return true
}

// registry returns the worker models of "sawtooth serve" (sync, threads
// and loop): the master
// validates --worker-model against it and workers build their model from
// it. A new model is one more entry here.
func registry() worker.Registry {
	return worker.Builtin()
}

// runWorker runs a worker process from its environment and inherited files
// and returns its exit status.
func runWorker(models worker.Registry) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("role", RoleWorker)
	var cfg worker.Config
	if err := json.Unmarshal([]byte(os.Getenv(workerConfigEnv)), &cfg); err != nil {
		log.Error(fmt.Sprintf("bad %s: %v", workerConfigEnv, err))
		return 2
	}
	lf := os.NewFile(listenerFD, "listener")
	ln, err := net.FileListener(lf)
	lf.Close()
	if err != nil {
		log.Error(fmt.Sprintf("inherited listener (fd %d): %v", listenerFD, err))
		return 2
	}
	cf := os.NewFile(controlFD, "control")
	cc, err := net.FileConn(cf)
	cf.Close()
	if err != nil {
		log.Error(fmt.Sprintf("inherited control channel (fd %d): %v", controlFD, err))
		return 2
	}
	ctrl := control.NewConn(cc)
	defer ctrl.Close()
	if err := worker.Run(cfg, ln, ctrl, models, log); err != nil {
		if err != worker.ErrMasterGone {
			log.Error(err.Error())
		}
		return 1
	}
	return 0
}

// inheritable returns a duplicate of ln's socket for workers to inherit.
// It is made with os.NewFile from a non-blocking descriptor, so that
// exec's call to Fd does not switch the shared open file description to
// blocking mode (which net.TCPListener.File's result would do, leaving
// running workers stuck in a blocking accept(2) that Close cannot end).
func inheritable(ln *net.TCPListener) (*os.File, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd int
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, fmt.Errorf("dup listening socket: %w", derr)
	}
	return os.NewFile(uintptr(fd), "listener"), nil
}

// spawned is a started worker process and the master's end of its control
// channel.
type spawned struct {
	cmd  *exec.Cmd
	conn *control.Conn
}

// spawnWorker re-executes exe as a worker with cfg, handing it the
// listening socket ln and one end of a new control socket pair. The worker
// is killed if the master dies (Pdeathsig) and stays in the master's
// process group, so killing the group kills the tree.
func spawnWorker(exe string, ln *os.File, cfg worker.Config) (*spawned, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode worker config: %w", err)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket pair: %w", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control-child")
	defer theirs.Close()
	cmd := exec.Command(exe, RoleWorker)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), ChildEnv+"="+RoleWorker, workerConfigEnv+"="+string(js))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{ln, theirs}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, fmt.Errorf("start worker %s: %w", exe, err)
	}
	c, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("control channel: %w", err)
	}
	return &spawned{cmd: cmd, conn: control.NewConn(c)}, nil
}
