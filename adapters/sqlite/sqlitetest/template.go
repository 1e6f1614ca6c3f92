// Package sqlitetest gives tests copies of SQLite databases that are
// expensive to build, such as the seeded demo county: each is built once
// per test binary and copied for every test that asks. When the
// directory SANZHI_TEST_TEMPLATES holds a subdirectory named by the key,
// that is the template, built once for every test binary of the run
// (`make test` seeds the demo county there with the CLI).
package sqlitetest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

type template struct {
	once   sync.Once
	dir    string
	err    error
	shared bool // dir belongs to the run (SANZHI_TEST_TEMPLATES): never removed here
}

var (
	mu        sync.Mutex
	templates = map[string]*template{}
)

// Copy returns the path of a private copy of the database file name that
// build makes in an empty directory. build runs once per key in this
// process; every file it leaves in its directory (the database and
// whatever it keeps beside it, such as key files derived from its path)
// is copied, under the same names, into a new t.TempDir for each call.
//
// build must close the database before returning, so that its write-ahead
// log is checkpointed into the file and the copy is whole.
func Copy(t testing.TB, key, name string, build func(path string) error) string {
	t.Helper()
	mu.Lock()
	tpl, ok := templates[key]
	if !ok {
		tpl = &template{}
		templates[key] = tpl
	}
	mu.Unlock()
	tpl.once.Do(func() {
		if shared := os.Getenv("SANZHI_TEST_TEMPLATES"); shared != "" {
			dir := filepath.Join(shared, key)
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				tpl.dir, tpl.shared = dir, true
				return
			}
		}
		// Not t.TempDir: the template outlives the test that built it.
		dir, err := os.MkdirTemp("", "sanzhi-template-")
		tpl.dir, tpl.err = dir, err
		if err != nil {
			return
		}
		// Stays set if build never returns (a t.Fatal inside it), so the
		// tests after it fail plainly instead of copying half a database.
		tpl.err = errors.New("an earlier test failed while building it")
		tpl.err = build(filepath.Join(dir, name))
	})
	if tpl.err != nil {
		t.Fatalf("building template %s: %v", key, tpl.err)
	}
	return copyDir(t, key, tpl.dir, name)
}

// copyDir copies every file of dir into a new t.TempDir and returns the
// path of name there.
func copyDir(t testing.TB, key, dir, name string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := copyFile(filepath.Join(dir, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatalf("copying template %s: %v", key, err)
		}
	}
	return filepath.Join(dst, name)
}

// Shared returns the path of a private copy of the run's template key
// (SANZHI_TEST_TEMPLATES/key/name, every file beside it copied too) and
// true, or "" and false when the run has none, for a test that then builds
// its database itself: a package without a TestMain to remove a template
// it built can still share the one `make test` made.
func Shared(t testing.TB, key, name string) (string, bool) {
	t.Helper()
	shared := os.Getenv("SANZHI_TEST_TEMPLATES")
	if shared == "" {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(shared, key, name)); err != nil {
		return "", false
	}
	return copyDir(t, key, filepath.Join(shared, key), name), true
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// RemoveAll deletes every template this process built; call it from
// TestMain after m.Run.
func RemoveAll() {
	mu.Lock()
	defer mu.Unlock()
	for _, tpl := range templates {
		if tpl.dir != "" && !tpl.shared {
			_ = os.RemoveAll(tpl.dir)
		}
	}
}
