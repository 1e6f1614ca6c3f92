package merklelog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
)

// ExportFormat names the JSON Lines export layout, so a verifier can
// refuse a file it does not understand.
const ExportFormat = "sanzhi-audit-export/v1"

// ExportHeader is the first line of a JSON Lines export: which leaves it
// holds, the signed checkpoint they are checked against, and the compact
// range of the leaves before From, so an export that does not start at 0
// can still be checked against the root.
type ExportHeader struct {
	Format     string   `json:"format"`
	From       uint64   `json:"from,string"`
	To         uint64   `json:"to,string"`
	Checkpoint string   `json:"checkpoint"`
	LeftBorder []string `json:"left_border"` // hex hashes of the compact range [0, From)
}

// ExportLine is one leaf of an export.
type ExportLine struct {
	LeafIndex uint64          `json:"leaf_index,string"`
	LeafHash  string          `json:"leaf_hash"`
	Entry     json.RawMessage `json:"entry"`
}

// csvHeader is the CSV export's columns; entry holds the exact leaf bytes.
var csvHeader = []string{"leaf_index", "leaf_hash", "time", "actor", "action", "subject", "request_hash", "result_hash", "payload", "entry"}

// Export writes leaves [from, to) as jsonl or csv. to must be the size of a
// published checkpoint (0 = the latest), so the export can be verified.
func Export(ctx context.Context, st Store, from, to uint64, format string, w io.Writer, progress func(done, total uint64)) (uint64, error) {
	cp, err := st.Checkpoint(ctx, to)
	if err != nil {
		return 0, fmt.Errorf("--to must be the size of a published checkpoint: %w", err)
	}
	to = cp.Size
	if from > to {
		return 0, fmt.Errorf("--from %d is past --to %d", from, to)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var cw *csv.Writer
	switch format {
	case "jsonl":
		border, err := leftBorder(ctx, st, from)
		if err != nil {
			return 0, err
		}
		h := ExportHeader{Format: ExportFormat, From: from, To: to, Checkpoint: cp.Note}
		for _, b := range border {
			h.LeftBorder = append(h.LeftBorder, hex.EncodeToString(b))
		}
		if err := writeJSONLine(bw, h); err != nil {
			return 0, err
		}
	case "csv":
		cw = csv.NewWriter(bw)
		if err := cw.Write(csvHeader); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("format must be jsonl or csv, got %q", format)
	}
	var n uint64
	err = st.ScanLeaves(ctx, from, to, func(l sqlstore.Leaf) error {
		n++
		if progress != nil && n%chunk == 0 {
			progress(n, to-from)
		}
		if cw == nil {
			return writeJSONLine(bw, ExportLine{LeafIndex: l.Seq, LeafHash: hex.EncodeToString(l.LeafHash), Entry: l.Data})
		}
		e, err := audit.ParseEntry(l.Data)
		if err != nil {
			return &TamperError{Index: l.Seq, Reason: "entry is not canonical: " + err.Error()}
		}
		payload, _ := json.Marshal(e.Payload)
		return cw.Write([]string{strconv.FormatUint(l.Seq, 10), hex.EncodeToString(l.LeafHash),
			e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.Action, e.Subject,
			e.RequestHash, e.ResultHash, string(payload), string(l.Data)})
	})
	if err != nil {
		return n, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	if progress != nil {
		progress(to-from, to-from)
	}
	return n, bw.Flush()
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// leftBorder returns the hashes of the compact range [0, size) from the
// stored subtree hashes.
func leftBorder(ctx context.Context, st Store, size uint64) ([][]byte, error) {
	ids := compact.RangeNodes(0, size, nil)
	nids := make([]sqlstore.NodeID, len(ids))
	for i, id := range ids {
		nids[i] = sqlstore.NodeID{Level: id.Level, Index: id.Index}
	}
	return st.Nodes(ctx, nids)
}

// VerifyExport checks an export offline: every line's entry is canonical
// and numbered in order, its hash matches, and the recomputed root equals
// the signed checkpoint's. JSON Lines exports carry their checkpoint; CSV
// exports start at leaf 0 and need checkpoint (a signed note file).
func VerifyExport(r io.Reader, v note.Verifier, checkpoint []byte, progress func(done uint64)) (Report, error) {
	if v == nil {
		return Report{}, errors.New("verify export: no verifier key")
	}
	return VerifyExportKeys(r, audit.SingleKey(v), checkpoint, progress)
}

// VerifyExportKeys is VerifyExport with the log's key history: the
// checkpoint must be signed by the key (both keys at a handover) that the
// history says signed at its size.
func VerifyExportKeys(r io.Reader, keys *audit.KeyHistory, checkpoint []byte, progress func(done uint64)) (Report, error) {
	var rep Report
	if keys == nil {
		return rep, errors.New("verify export: no key history")
	}
	br := bufio.NewReaderSize(r, 1<<20)
	first, err := br.Peek(1)
	if err != nil {
		return rep, fmt.Errorf("empty export: %w", err)
	}
	var (
		c    *leafChecker
		cp   audit.Checkpoint
		next func() (seq uint64, hash string, data []byte, err error)
	)
	if first[0] == '{' {
		dec := json.NewDecoder(br)
		var h ExportHeader
		if err := dec.Decode(&h); err != nil || h.Format != ExportFormat {
			return rep, fmt.Errorf("not a %s export (first line must be its header)", ExportFormat)
		}
		note := []byte(h.Checkpoint)
		if checkpoint != nil {
			note = checkpoint
		}
		if cp, err = keys.OpenCheckpoint(note); err != nil {
			return rep, fmt.Errorf("export checkpoint: %w", err)
		}
		var border [][]byte
		for _, s := range h.LeftBorder {
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != 32 {
				return rep, fmt.Errorf("export header: bad left border hash %q", s)
			}
			border = append(border, b)
		}
		if c, err = newLeafChecker(h.From, border); err != nil {
			return rep, fmt.Errorf("export header: %w", err)
		}
		next = func() (uint64, string, []byte, error) {
			var l ExportLine
			if err := dec.Decode(&l); err != nil {
				return 0, "", nil, err
			}
			return l.LeafIndex, l.LeafHash, l.Entry, nil
		}
	} else {
		if checkpoint == nil {
			return rep, fmt.Errorf("a CSV export carries no checkpoint: pass the signed checkpoint file")
		}
		if cp, err = keys.OpenCheckpoint(checkpoint); err != nil {
			return rep, fmt.Errorf("checkpoint: %w", err)
		}
		cr := csv.NewReader(br)
		head, err := cr.Read()
		if err != nil || strings.Join(head, ",") != strings.Join(csvHeader, ",") {
			return rep, fmt.Errorf("not a sanzhi CSV audit export (header must be %s)", strings.Join(csvHeader, ","))
		}
		c, _ = newLeafChecker(0, nil)
		next = func() (uint64, string, []byte, error) {
			rec, err := cr.Read()
			if err != nil {
				return 0, "", nil, err
			}
			seq, perr := strconv.ParseUint(rec[0], 10, 64)
			if perr != nil {
				return 0, "", nil, fmt.Errorf("bad leaf_index %q", rec[0])
			}
			return seq, rec[1], []byte(rec[9]), nil
		}
	}
	for {
		seq, hash, data, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, &TamperError{Index: c.size(), Reason: "unreadable line: " + err.Error()}
		}
		stored, herr := hex.DecodeString(hash)
		if herr != nil {
			return rep, &TamperError{Index: c.size(), Reason: "leaf_hash is not hex"}
		}
		if err := c.add(seq, bytes.TrimSpace(data), stored); err != nil {
			return rep, err
		}
		if progress != nil && c.size()%chunk == 0 {
			progress(c.size())
		}
	}
	if err := c.flush(); err != nil {
		return rep, err
	}
	if c.size() != cp.Size {
		return rep, &TamperError{Index: c.size(), Reason: fmt.Sprintf("export ends at %d leaves but its checkpoint covers %d", c.size(), cp.Size)}
	}
	if root := c.b.Root(); !bytes.Equal(root, cp.Root) {
		return rep, &TamperError{Index: cp.Size - 1, Reason: "recomputed root does not match the signed checkpoint"}
	}
	rep.Leaves, rep.Checkpoint, rep.Checkpoints = c.size(), cp, 1
	return rep, nil
}
