package audit

import (
	"crypto/sha256"
	"testing"
	"time"
)

// benchLeaf is a typical ~300-byte leaf.
var benchLeaf = sampleEntry().Canonical()

// BenchmarkLeafHash and BenchmarkSHA256 hash the same bytes; their ratio is
// the cost of RFC 6962 leaf hashing over raw SHA-256.
func BenchmarkLeafHash(b *testing.B) {
	b.SetBytes(int64(len(benchLeaf)))
	for b.Loop() {
		LeafHash(benchLeaf)
	}
}

func BenchmarkSHA256(b *testing.B) {
	b.SetBytes(int64(len(benchLeaf)))
	for b.Loop() {
		sha256.Sum256(benchLeaf)
	}
}

// BenchmarkTreeBuilderAdd is the per-leaf cost of recomputing a log: check
// the canonical form, hash the leaf, compare with the stored hash and fold it
// into the tree. Compare its ns/op with BenchmarkSHA256's for the ratio.
func BenchmarkTreeBuilderAdd(b *testing.B) {
	const n = 1 << 16
	leaves := make([][]byte, n)
	hashes := make([][]byte, n)
	for i := range leaves {
		e := sampleEntry()
		e.Seq = uint64(i)
		leaves[i] = e.Canonical()
		hashes[i] = LeafHash(leaves[i])
	}
	b.SetBytes(int64(len(leaves[n/2])))
	tb := NewTreeBuilder()
	for b.Loop() {
		i := tb.Size()
		if i == n {
			tb = NewTreeBuilder()
			i = 0
		}
		if err := tb.Add(leaves[i], hashes[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEntry(b *testing.B) {
	b.SetBytes(int64(len(benchLeaf)))
	for b.Loop() {
		if _, err := ParseEntry(benchLeaf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonical(b *testing.B) {
	e := sampleEntry()
	for b.Loop() {
		e.Canonical()
	}
}

const tenMillion = 10_000_000

// BenchmarkVerifyInclusion verifies a proof of a leaf in a tree of ten
// million leaves.
func BenchmarkVerifyInclusion(b *testing.B) {
	root, read := uniformTree(b, benchLeaf, tenMillion)
	c := Checkpoint{Origin: testOrigin, Size: tenMillion, Root: root}
	const index = 7_654_321
	p, err := InclusionProof(index, tenMillion, read)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := VerifyInclusion(c, index, benchLeaf, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInclusionProof and BenchmarkConsistencyProof are the CPU part of
// serving a proof at ten million leaves, node hashes already read.
func BenchmarkInclusionProof(b *testing.B) {
	_, read := uniformTree(b, benchLeaf, tenMillion)
	for b.Loop() {
		if _, err := InclusionProof(7_654_321, tenMillion, read); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConsistencyProof(b *testing.B) {
	_, read := uniformTree(b, benchLeaf, tenMillion)
	for b.Loop() {
		if _, err := ConsistencyProof(7_654_321, tenMillion, read); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyConsistency(b *testing.B) {
	root1, _ := uniformTree(b, benchLeaf, 7_654_321)
	root2, read := uniformTree(b, benchLeaf, tenMillion)
	p, err := ConsistencyProof(7_654_321, tenMillion, read)
	if err != nil {
		b.Fatal(err)
	}
	old := Checkpoint{Origin: testOrigin, Size: 7_654_321, Root: root1}
	newer := Checkpoint{Origin: testOrigin, Size: tenMillion, Root: root2}
	for b.Loop() {
		if err := VerifyConsistency(old, newer, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	a, err := NewAppender(0, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := LeafHash(benchLeaf)
	for b.Loop() {
		if err := a.Append(h, func(uint, uint64, []byte) {}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckCanonical(b *testing.B) {
	b.SetBytes(int64(len(benchLeaf)))
	for b.Loop() {
		if _, err := checkCanonical(benchLeaf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTreeBuilderAddBatch is BenchmarkTreeBuilderAdd with the leaves
// handed over 4096 at a time, checked and hashed on all cores.
func BenchmarkTreeBuilderAddBatch(b *testing.B) {
	const n, batch = 1 << 16, 4096
	leaves := make([][]byte, n)
	hashes := make([][]byte, n)
	for i := range leaves {
		e := sampleEntry()
		e.Seq = uint64(i)
		leaves[i] = e.Canonical()
		hashes[i] = LeafHash(leaves[i])
	}
	b.SetBytes(int64(batch * len(leaves[n/2])))
	tb := NewTreeBuilder()
	for b.Loop() {
		i := int(tb.Size())
		if i == n {
			tb = NewTreeBuilder()
			i = 0
		}
		if err := tb.AddBatch(leaves[i:i+batch], hashes[i:i+batch]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/leaf")
}

// BenchmarkRecordValidate checks a record shaped like a household
// create's: a UUID actor, a subject naming a UUID, two hashes, a small
// payload. Every write transaction and every credit read runs it.
func BenchmarkRecordValidate(b *testing.B) {
	r := Record{
		Time:        time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC),
		Actor:       "0193b2c4-7e1a-7c3d-9f00-00000000002a",
		Action:      "household.create",
		Subject:     "villages/330483102201/households/0193b2c4-7e1a-7c3d-9f00-000000001234",
		RequestHash: HashBytes([]byte("request 1")),
		ResultHash:  HashBytes([]byte("result 1")),
		Payload:     map[string]string{"village": "330483102201", "facts_version": "1"},
	}
	for b.Loop() {
		if err := r.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
