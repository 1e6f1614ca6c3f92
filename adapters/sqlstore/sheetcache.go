package sqlstore

import (
	"slices"
	"sync"

	"github.com/sanzhi/sanzhi/scoring/points"
)

// sheetCache keeps the decoded entries of the sheets GetPoints reads,
// by household. A sheet's version changes with every write of it, and a
// stored version is never written again, so entries cached with their
// version are exact for as long as the stored version is the same; the
// read compares the two in its one statement and skips the text (about
// 200 bytes an entry, 1,000 entries a busy household) when they match.
// The cache is emptied when it holds sheetCacheEntries entries.
type sheetCache struct {
	mu      sync.Mutex
	m       map[string]cachedSheet
	entries int
}

type cachedSheet struct {
	version int
	entries []points.Entry
}

// sheetCacheEntries bounds the entries cached: about 100 MB with the
// sheets' text they point into.
const sheetCacheEntries = 250_000

// get returns the cached version of household id's sheet and its entries
// (0 and nil when none). The entries are shared: read, never modified in
// place; their capacity is their length, so an append copies them.
func (c *sheetCache) get(id string) (int, []points.Entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.m[id]
	return cs.version, cs.entries
}

// put caches a sheet read at version, unless a later one is cached.
func (c *sheetCache) put(id string, version int, entries []points.Entry) {
	if len(entries) == 0 || len(entries) > sheetCacheEntries/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[id]
	if ok && old.version >= version {
		return
	}
	if c.m == nil || c.entries+len(entries) > sheetCacheEntries {
		c.m, c.entries = make(map[string]cachedSheet, 1024), 0
		old = cachedSheet{}
	}
	c.m[id] = cachedSheet{version: version, entries: slices.Clip(entries)}
	c.entries += len(entries) - len(old.entries)
}
