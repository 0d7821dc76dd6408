// Package outfile creates lmmbayes' output files: mode 0644 (dirs 0755)
// under the umask, whichever code writes them, and atomically where
// readers may look.
package outfile

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Files are created FileMode and dirs DirMode, subject to the umask,
// whichever code writes them.
const (
	FileMode = 0o644
	DirMode  = 0o755
)

// CreateFile creates (or truncates) path with FileMode.
func CreateFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, FileMode)
}

// CreateTemp creates a new file in dir named prefix + a random suffix,
// with FileMode (os.CreateTemp would make it 0600).
func CreateTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := os.OpenFile(filepath.Join(dir, prefix+RandomSuffix()), os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
		if os.IsExist(err) && try < 10000 {
			continue
		}
		return f, err
	}
}

// RandomSuffix returns 10 random lower-case letters and digits.
func RandomSuffix() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [10]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b[:])
}

// SaveAtomically writes path through write into a temporary file in the
// same directory and renames it into place, so that readers never see a
// partial file and a failed write leaves no file behind. write gets a
// buffered writer.
func SaveAtomically(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := CreateTemp(dir, "."+filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteFile creates path and fills it through a buffered writer (into a
// staging dir, where no reader looks: not atomically).
func WriteFile(path string, fill func(w *bufio.Writer) error) error {
	f, err := CreateFile(path)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("output: %s: %w", filepath.Base(path), err)
	}
	return nil
}
