package catalogue

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	examples "github.com/sanzhi/sanzhi/examples/catalogues"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/points"
)

func TestParseName(t *testing.T) {
	good := []struct {
		name  string
		owner Owner
		n     int
	}{
		{"counties/330483/catalogues/1", Owner{County, "330483"}, 1},
		{"villages/330483102215/catalogues/12", Owner{Village, "330483102215"}, 12},
		{"villages/330483102215/catalogues/active", Owner{Village, "330483102215"}, 0},
	}
	for _, g := range good {
		o, n, err := ParseName(g.name, "name", true)
		require.NoError(t, err, g.name)
		assert.Equal(t, g.owner, o)
		assert.Equal(t, g.n, n)
		if n > 0 {
			assert.Equal(t, g.name, VersionName(o, n), "names round-trip")
		}
	}
	bad := map[string]string{
		"":                                          "must be",
		"counties/330483":                           "must be",
		"counties/330483/catalogues/":               "must be",
		"towns/330483/catalogues/1":                 "counties/{county_code} or villages/{village_code}",
		"counties/3304830/catalogues/1":             "not a county code",
		"villages/33048310221/catalogues/1":         "12 digits",
		"villages/330483102215/catalogues/0":        "version",
		"villages/330483102215/catalogues/01":       "version",
		"villages/330483102215/catalogues/-1":       "version",
		"villages/330483102215/catalogues/1e3":      "version",
		"villages/330483102215/catalogues/99999999": "version",
		"villages/330483102215/catalogues/1/x":      "must be",
	}
	for name, want := range bad {
		_, _, err := ParseName(name, "name", true)
		require.Error(t, err, name)
		assert.True(t, fault.Is(err, fault.Invalid), name)
		assert.Contains(t, err.Error(), want, name)
	}
	_, _, err := ParseName("villages/330483102215/catalogues/active", "name", false)
	assert.ErrorContains(t, err, "name a version number")
}

func TestOwnerOf(t *testing.T) {
	o, ok := OwnerOf("villages/330483102215/catalogues/1")
	assert.True(t, ok)
	assert.Equal(t, Owner{Village, "330483102215"}, o)
	assert.Equal(t, "330483", o.County())
	o, ok = OwnerOf("counties/330483")
	assert.True(t, ok)
	assert.Equal(t, "counties/330483", o.Name())
	_, ok = OwnerOf("entries/1")
	assert.False(t, ok)
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := examples.FS.ReadFile(name)
	require.NoError(t, err)
	return b
}

func TestCheck(t *testing.T) {
	countyDoc := read(t, examples.CountyFile)
	c, err := Check(countyDoc, nil)
	require.NoError(t, err)
	assert.Equal(t, County, c.Kind)
	assert.Equal(t, DocumentHash(countyDoc), c.ContentHash)
	assert.Equal(t, Owner{County, "330483"}, c.Owner())

	base, err := points.ParseCounty(countyDoc)
	require.NoError(t, err)
	villageDoc := read(t, examples.VillageFile("yantou"))
	alone, err := Check(villageDoc, nil)
	require.NoError(t, err)
	assert.False(t, alone.BaseChecked)
	assert.Empty(t, alone.ContentHash)
	resolved, err := Check(villageDoc, base)
	require.NoError(t, err)
	assert.True(t, resolved.BaseChecked)
	doc, err := points.ParseVillage(villageDoc)
	require.NoError(t, err)
	cat, err := doc.Resolve(base)
	require.NoError(t, err)
	assert.Equal(t, cat.Hash, resolved.ContentHash, "a village's content hash is its effective catalogue's")
	assert.Equal(t, len(cat.Items), resolved.ItemCount)

	// Comments do not change what a village resolves to.
	commented := append([]byte("# a comment\n"), villageDoc...)
	again, err := Check(commented, base)
	require.NoError(t, err)
	assert.Equal(t, resolved.ContentHash, again.ContentHash)
}

func TestInvalidDocument(t *testing.T) {
	bad := strings.Replace(string(read(t, examples.VillageFile("nanyang"))), "\nversion: 1\n", "\nversion: 1\ncolour: red\n", 1)
	_, err := Check([]byte(bad), nil)
	require.Error(t, err)
	f := InvalidDocument(err)
	var fe *fault.Error
	require.True(t, errors.As(f, &fe))
	assert.Equal(t, fault.Invalid, fe.Kind)
	assert.Equal(t, "CATALOGUE_INVALID", fe.Reason)
	require.Len(t, fe.Violations, 1)
	assert.Equal(t, "document", fe.Violations[0].Field)
	assert.Regexp(t, `^line \d+:1: colour: unknown field`, fe.Violations[0].Description)

	other := errors.New("boom")
	assert.Same(t, other, InvalidDocument(other))
}
