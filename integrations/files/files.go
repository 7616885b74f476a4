// Package files keeps the files of digital goods: a directory on the
// server by default (DOWNLOADS_DIR), or an S3-compatible bucket (Amazon S3,
// MinIO, Cloudflare R2, Wasabi, …) reached with AWS Signature Version 4.
//
// A Store only reads: files are put in place by the shop's own tools (a
// deploy, rsync, the bucket's console), and a product's digital.file names
// one by its path inside the store.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotFound is a name with no file behind it.
var ErrNotFound = errors.New("files: no such file")

// Store opens the files of digital goods by name: a slash-separated path
// inside the store, never leaving it.
type Store interface {
	Open(ctx context.Context, name string) (*Object, error)
}

// Object is an opened file. The caller closes Body. When Body is also an
// io.ReadSeeker (a local file) a server can answer range requests.
type Object struct {
	Body    io.ReadCloser
	Size    int64 // -1 when unknown
	ModTime time.Time
}

// Dir is a Store over a directory on the server.
type Dir string

// Open opens name inside the directory; names that would leave it
// (.., absolute paths, symbolic links pointing out) are ErrNotFound.
func (d Dir) Open(_ context.Context, name string) (*Object, error) {
	if d == "" || !validName(name) {
		return nil, ErrNotFound
	}
	f, err := os.OpenInRoot(string(d), filepath.FromSlash(name))
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("files: open %s: %w", name, err) // the operator's to fix
		}
		// Missing, or not inside the directory (a link out of it, a
		// file where a directory was named): no such file here.
		return nil, ErrNotFound
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("files: stat %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, ErrNotFound
	}
	return &Object{Body: f, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// validName is a relative slash-separated path with no empty, "." or ".."
// element.
func validName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}
