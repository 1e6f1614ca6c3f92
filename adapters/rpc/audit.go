package rpc

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/app"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/lending/credit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// Audit serves sanzhi.v1.AuditService.
type Audit struct {
	sanzhiv1.UnimplementedAuditServiceServer
	log    *merklelog.Log
	store  *sqlstore.Store
	credit *credit.Service // decision replay and receipts (audit_decisions.go)
}

// NewAudit returns the handler over log.
func NewAudit(log *merklelog.Log, store *sqlstore.Store) *Audit {
	return &Audit{log: log, store: store}
}

func (s *Audit) checkpointOut(c sqlstore.StoredCheckpoint) *sanzhiv1.Checkpoint {
	return &sanzhiv1.Checkpoint{
		TreeSize: c.Size, RootHash: c.Root, SignedNote: c.Note, Origin: s.log.Origin(),
		VerifierKey: s.log.VerifierKey(), PublishTime: timestamppb.New(c.Time),
	}
}

func (s *Audit) GetCheckpoint(ctx context.Context, req *sanzhiv1.GetCheckpointRequest) (*sanzhiv1.Checkpoint, error) {
	if req.GetRefresh() {
		if req.GetTreeSize() != 0 {
			return nil, fault.InvalidField("refresh", "refresh publishes the latest checkpoint; do not also ask for tree_size")
		}
		c, err := s.log.Publish(ctx)
		if err != nil {
			return nil, err
		}
		return s.checkpointOut(c), nil
	}
	c, err := s.log.Checkpoint(ctx, req.GetTreeSize())
	if err != nil {
		return nil, err
	}
	return s.checkpointOut(c), nil
}

func (s *Audit) GetEntry(ctx context.Context, req *sanzhiv1.GetEntryRequest) (*sanzhiv1.AuditEntry, error) {
	seq, err := strconv.ParseUint(strings.TrimPrefix(req.GetName(), "entries/"), 10, 64)
	if err != nil {
		return nil, fault.InvalidField("name", "must be entries/{seq}, got %q", req.GetName())
	}
	p, err := s.log.Entry(ctx, seq, req.GetTreeSize())
	if err != nil {
		return nil, err
	}
	if !audit.Visible(access.FromContext(ctx), p.Entry) {
		// Every seq below a checkpoint's size exists (sizes are public),
		// so NOT_FOUND reveals nothing but that this caller may not read
		// it: not who or what the entry is about.
		return nil, fault.New(fault.NotFound, "ENTRY_NOT_FOUND", "audit entry %d not found", seq)
	}
	return s.provedEntryOut(p, seq)
}

// provedEntryOut is an entry with its inclusion proof, the checkpoint it
// is proved against and the receipt that bundles them (GetEntry and
// GetDecisionReceipt answer the same).
func (s *Audit) provedEntryOut(p merklelog.Proved, seq uint64) (*sanzhiv1.AuditEntry, error) {
	out := entryOut(p.Leaf, p.Entry)
	out.InclusionProof = p.Proof
	out.Checkpoint = s.checkpointOut(p.Checkpoint)
	receipt, err := json.Marshal(audit.Receipt{Entry: p.Leaf.Data, LeafIndex: seq, Proof: p.Proof, Checkpoint: p.Checkpoint.Note})
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "RECEIPT", "cannot encode receipt")
	}
	out.Receipt = string(receipt)
	return out, nil
}

func (s *Audit) GetConsistencyProof(ctx context.Context, req *sanzhiv1.GetConsistencyProofRequest) (*sanzhiv1.ConsistencyProof, error) {
	hashes, err := s.log.Consistency(ctx, req.GetOldSize(), req.GetNewSize())
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.ConsistencyProof{OldSize: req.GetOldSize(), NewSize: req.GetNewSize(), Hashes: hashes}, nil
}

func (s *Audit) ListEntries(ctx context.Context, req *sanzhiv1.ListEntriesRequest) (*sanzhiv1.ListEntriesResponse, error) {
	f := app.EntryFilter{Actor: req.GetActor(), Action: req.GetAction(), Subject: req.GetSubject(), Village: req.GetVillage()}
	if req.StartTime != nil {
		f.Since = req.GetStartTime().AsTime()
	}
	if req.EndTime != nil {
		f.Until = req.GetEndTime().AsTime()
	}
	page, err := app.ListEntries(ctx, s.store, access.FromContext(ctx), f, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &sanzhiv1.ListEntriesResponse{NextPageToken: page.NextToken}
	for _, e := range page.Entries {
		resp.Entries = append(resp.Entries, entryOut(e.Leaf, e.Entry))
	}
	return resp, nil
}

func entryOut(l sqlstore.Leaf, e audit.Entry) *sanzhiv1.AuditEntry {
	return &sanzhiv1.AuditEntry{
		Name: "entries/" + strconv.FormatUint(e.Seq, 10), Seq: e.Seq, LeafData: l.Data, LeafHash: l.LeafHash,
		Time: timestamppb.New(e.Time), Actor: e.Actor, Action: e.Action, Subject: e.Subject,
		RequestHash: e.RequestHash, ResultHash: e.ResultHash, Payload: e.Payload,
	}
}
