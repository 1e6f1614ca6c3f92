package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
)

// The regulator's views of the audit log (the console's /console/audit
// pages): what a page shows is put together here, so the rules stay out
// of the console.

// CheckpointRow is one signed checkpoint as a regulator reads it: what
// it says, and whether the server found it signed by the log's key and
// extended by the latest checkpoint (an RFC 6962 consistency proof).
type CheckpointRow struct {
	Checkpoint sqlstore.StoredCheckpoint
	// SignatureOK: the note opens with the log's verifier key.
	SignatureOK bool
	// Consistent: the latest checkpoint's tree extends this one's.
	Consistent bool
	// ProofSize is the number of hashes of that consistency proof.
	ProofSize int
}

// AuditCheckpoints is the explorer's head: the latest checkpoint and the
// most recent ones before it, newest first.
type AuditCheckpoints struct {
	Origin, VerifierKey string
	Latest              CheckpointRow
	History             []CheckpointRow
}

// auditHistory is how many earlier checkpoints the explorer shows.
const auditHistory = 12

// errNoLog is the answer of the audit views on a server that does not
// publish the log.
var errNoLog = fault.New(fault.FailedPrecondition, "NO_AUDIT_LOG", "this server does not publish the audit log")

// AuditCheckpoints reads the latest checkpoint and up to auditHistory
// checkpoints before it, each checked against the log's key and proved
// consistent with the latest. NotFound when none is published yet.
func (a *App) AuditCheckpoints(ctx context.Context) (*AuditCheckpoints, error) {
	if a.Audit == nil {
		return nil, errNoLog
	}
	latest, err := a.Audit.Checkpoint(ctx, 0)
	if err != nil {
		return nil, err
	}
	// Checkpoints come in size order: keep the last few before latest.
	// The scan reads every stored checkpoint (a short row each); the
	// store has no reverse listing yet.
	var ring []sqlstore.StoredCheckpoint
	err = a.Store.ScanCheckpoints(ctx, func(c sqlstore.StoredCheckpoint) error {
		if c.Size >= latest.Size {
			return nil
		}
		ring = append(ring, c)
		if len(ring) > auditHistory {
			ring = ring[1:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(ring)
	out := &AuditCheckpoints{Origin: a.Audit.Origin(), VerifierKey: a.Audit.VerifierKey()}
	lc, err := a.openCheckpoint(latest)
	out.Latest = CheckpointRow{Checkpoint: latest, SignatureOK: err == nil, Consistent: err == nil}
	for _, c := range ring {
		row := CheckpointRow{Checkpoint: c}
		old, err := a.openCheckpoint(c)
		row.SignatureOK = err == nil
		if row.SignatureOK && out.Latest.SignatureOK {
			hashes, err := a.Audit.Consistency(ctx, c.Size, latest.Size)
			if err != nil {
				return nil, err
			}
			row.ProofSize = len(hashes)
			row.Consistent = audit.VerifyConsistency(old, lc, hashes) == nil
		}
		out.History = append(out.History, row)
	}
	return out, nil
}

func (a *App) openCheckpoint(c sqlstore.StoredCheckpoint) (audit.Checkpoint, error) {
	return audit.OpenCheckpoint([]byte(c.Note), a.Audit.Origin(), a.Audit.Verifier())
}

// ProvedEntry is one entry with what a browser needs to check it on its
// own: the exact leaf bytes, the inclusion proof, the signed checkpoint
// and the log's published verifier key.
type ProvedEntry struct {
	merklelog.Proved
	VerifierKey string
	// Receipt is the entry's receipt (audit.Receipt), as GetEntry gives
	// it, for `sanzhi audit verify-receipt`.
	Receipt []byte
	// Tampered: one byte of the proof (or, with no proof hashes, of the
	// leaf) was flipped on purpose, to show a check failing. Receipt is
	// then left empty.
	Tampered bool
}

// AuditEntry returns entry seq proved against the latest checkpoint, for
// p (audit.Visible: NotFound for an entry p may not read, as GetEntry
// answers). With tamper, the proof is corrupted by one byte, for a
// demonstration that a check then fails; nothing stored changes.
func (a *App) AuditEntry(ctx context.Context, p *access.Principal, seq uint64, tamper bool) (*ProvedEntry, error) {
	if a.Audit == nil {
		return nil, errNoLog
	}
	pr, err := a.Audit.Entry(ctx, seq, 0)
	if fault.Is(err, fault.FailedPrecondition) {
		// Past the latest checkpoint: not in the log yet, as far as a
		// reader can check.
		return nil, fault.New(fault.NotFound, "ENTRY_NOT_FOUND", "audit entry %d not found", seq)
	}
	if err != nil {
		return nil, err
	}
	if !audit.Visible(p, pr.Entry) {
		return nil, fault.New(fault.NotFound, "ENTRY_NOT_FOUND", "audit entry %d not found", seq)
	}
	out := &ProvedEntry{Proved: pr, VerifierKey: a.Audit.VerifierKey()}
	if tamper {
		out.Tampered = true
		if len(pr.Proof) > 0 {
			out.Proof = slices.Clone(pr.Proof)
			out.Proof[0] = bytes.Clone(pr.Proof[0])
			out.Proof[0][0] ^= 0x01
		} else {
			out.Leaf.Data = bytes.Clone(pr.Leaf.Data)
			out.Leaf.Data[len(out.Leaf.Data)-2] ^= 0x01
		}
		return out, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the entry byte for byte (see audit.Receipt)
	enc.SetIndent("", "  ")
	if err := enc.Encode(audit.Receipt{Entry: pr.Leaf.Data, LeafIndex: seq, Proof: pr.Proof, Checkpoint: pr.Checkpoint.Note}); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "RECEIPT", "cannot encode receipt")
	}
	out.Receipt = buf.Bytes()
	return out, nil
}

// HouseholdRecords is a household's query records as a regulator reads
// them: the household and a page of its records.
type HouseholdRecords struct {
	Household *household.Household
	QueryRecordPage
}

// HouseholdRecordsByName reads the household named hh (fault.Invalid on
// household for a malformed name, NotFound for none) and a page of its
// query records.
func (a *App) HouseholdRecordsByName(ctx context.Context, hh string, pageToken string) (*HouseholdRecords, error) {
	if _, _, err := household.ParseName(hh, "household"); err != nil {
		return nil, err
	}
	h, err := a.Households.Get(ctx, hh)
	if err != nil {
		return nil, err
	}
	page, err := QueryRecords(ctx, a.Store, hh, 0, pageToken)
	if err != nil {
		return nil, err
	}
	return &HouseholdRecords{Household: h, QueryRecordPage: page}, nil
}

// PolicyVersionView is a policy version with the simulations the log
// holds of it (policies.RecordSimulation's entries, newest first).
type PolicyVersionView struct {
	Version     *policies.Version
	Simulations []ListedEntry
	// Gate is the version's latest activation gate report; nil for none.
	Gate *policies.GateReport
}

// maxSimulations bounds the simulation entries a version page lists.
const maxSimulations = 50

// PolicyVersion reads a stored policy version and its simulation entries
// visible to p.
func (a *App) PolicyVersion(ctx context.Context, p *access.Principal, name string) (*PolicyVersionView, error) {
	v, err := a.Policies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	out := &PolicyVersionView{Version: v}
	switch out.Gate, err = a.Policies.LatestGate(ctx, v.Name()); {
	case fault.Is(err, fault.NotFound):
		out.Gate = nil
	case err != nil:
		return nil, err
	}
	token := ""
	for {
		page, err := ListEntries(ctx, a.Store, p, EntryFilter{Action: policies.ActionSimulate, Subject: v.Name()}, 0, token)
		if err != nil {
			return nil, err
		}
		out.Simulations = append(out.Simulations, page.Entries...)
		if token = page.NextToken; token == "" || len(out.Simulations) >= 10*maxSimulations {
			break
		}
	}
	slices.Reverse(out.Simulations)
	if len(out.Simulations) > maxSimulations {
		out.Simulations = out.Simulations[:maxSimulations]
	}
	return out, nil
}

// AuditExport streams the log's entries [from, checkpoint) as jsonl or
// csv to w, the bytes `sanzhi audit export` writes (merklelog.Export),
// for p, a regulator (access.AuditExport, checked by the caller).
// treeSize names a published checkpoint (0: the latest). A bad format or
// range is fault.Invalid on that field, before anything is recorded or
// written; then the export is audited (one audit.export entry) and start
// is called with the checkpoint before the first byte, so a transport can
// name the download.
func (a *App) AuditExport(ctx context.Context, p *access.Principal, from, treeSize uint64, format string,
	start func(sqlstore.StoredCheckpoint), w io.Writer) error {
	if a.Audit == nil {
		return errNoLog
	}
	if p == nil {
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "no caller")
	}
	if format != "jsonl" && format != "csv" {
		return fault.InvalidField("format", "must be jsonl or csv, got %q", format)
	}
	cp, err := a.Audit.Checkpoint(ctx, treeSize)
	if fault.Is(err, fault.NotFound) && treeSize != 0 {
		return fault.InvalidField("tree_size", "no checkpoint of size %d is published", treeSize)
	}
	if err != nil {
		return err
	}
	if from > cp.Size {
		return fault.InvalidField("from_seq", "%d is past the checkpoint's size %d", from, cp.Size)
	}
	if err := a.Audit.RecordExport(ctx, p.ID, from, cp, format); err != nil {
		return err
	}
	start(cp)
	_, err = merklelog.Export(ctx, a.Store, from, cp.Size, format, w, nil)
	return err
}
