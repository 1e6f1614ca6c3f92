package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/sanzhi/sanzhi/"

// match reports whether path (module-relative, or a full import path)
// falls under pattern.
func match(pattern, path string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == dir || strings.HasPrefix(path, dir+"/")
	}
	return path == pattern
}

func floorOf(dir string) (Floor, bool) {
	for _, f := range Floors {
		for _, p := range f.Packages {
			if match(p, dir) {
				return f, true
			}
		}
	}
	return Floor{}, false
}

// imports maps each module-relative directory to the imports of its
// non-test files (module-relative for our own packages). Build tags are
// ignored: a tagged file keeps its floor too.
func imports(t *testing.T, root string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules" || d.Name() == "bin") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if out[rel] == nil {
			out[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[rel][strings.TrimPrefix(p, module)] = true
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestFloors(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the module root")
	all := imports(t, root)
	seen := map[string]bool{}
	for dir, imps := range all {
		f, ok := floorOf(dir)
		if !ok {
			continue // a transport, a tool or generated code: may import anything below
		}
		seen[f.Name] = true
		for imp := range imps {
			for _, bad := range f.Forbidden {
				assert.False(t, match(bad, imp), "%s (floor %s) imports %s", dir, f.Name, imp)
			}
		}
	}
	for _, f := range Floors {
		assert.True(t, seen[f.Name], "floor %s matched no package: the table is stale", f.Name)
	}
}

// The rule has teeth: the checker flags what it must.
func TestMatch(t *testing.T) {
	assert.True(t, match("adapters/...", "adapters/sqlstore"))
	assert.True(t, match("adapters/...", "adapters"))
	assert.False(t, match("adapters/...", "adaptersx"))
	assert.True(t, match("google.golang.org/grpc/...", "google.golang.org/grpc/codes"))
	f, ok := floorOf("scoring/rules")
	require.True(t, ok)
	assert.Equal(t, "domain", f.Name)
	_, ok = floorOf("adapters/rpc")
	assert.False(t, ok, "a transport has no floor to keep")
}
