package scenarios

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Size limits of the files a scenario is read from or names.
const (
	// MaxFileSize bounds a scenario file.
	MaxFileSize = maxSize
	// MaxBodySize bounds a request class's body_file.
	MaxBodySize = 64 << 20
)

// ReadFile reads the regular file at path, refusing anything else (a FIFO
// would block, /dev/zero never ends) and reading at most limit+1 bytes, so a
// file over limit is an error without being read whole. The error wraps
// fs.ErrNotExist for a missing file.
func ReadFile(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO without a writer would otherwise block
	// before Stat can refuse it. It has no effect on a regular file.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := checkRegular(f); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return data, tooLarge(path, limit)
	}
	return data, nil
}

// checkRegular returns an error unless f is a regular file.
func checkRegular(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &FileError{Path: f.Name(), Msg: fileKind(fi.Mode()) + ", want a regular file"}
	}
	return nil
}

// StatFile checks without reading it that path is a regular file of at most
// limit bytes.
func StatFile(path string, limit int64) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return &FileError{Path: path, Msg: fileKind(fi.Mode()) + ", want a regular file"}
	}
	if fi.Size() > limit {
		return tooLarge(path, limit)
	}
	return nil
}

// FileError is a file that cannot be used at all: not a regular file, or
// over the size limit of what it holds. No line or column applies.
type FileError struct {
	Path string
	Msg  string
}

// Error formats e as "PATH: MSG".
func (e *FileError) Error() string { return e.Path + ": " + e.Msg }

func tooLarge(path string, limit int64) *FileError {
	return &FileError{Path: path, Msg: fmt.Sprintf("file too large (more than %d bytes), want at most %d", limit, limit)}
}

// fileKind names the type of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// statDir checks that path is a directory.
func statDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &FileError{Path: path, Msg: "not a directory"}
	}
	return nil
}
