package rpc

import (
	"errors"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// exportChunk bounds one ExportChunk, well under gRPC's 4 MiB message
// limit whatever the exporter's buffering hands over.
const exportChunk = 256 << 10

// ExportEntries streams merklelog.Export's own bytes, so the format is
// written once and `sanzhi audit verify-export` checks the concatenated
// chunks unchanged. Only regulators reach here (access.AuditExport); the
// whole log is theirs to see, so no per-entry visibility filter applies.
func (s *Audit) ExportEntries(req *sanzhiv1.ExportEntriesRequest, stream sanzhiv1.AuditService_ExportEntriesServer) error {
	ctx := stream.Context()
	format := req.GetFormat()
	switch format {
	case "":
		format = "jsonl"
	case "jsonl", "csv":
	default:
		return fault.InvalidField("format", "must be jsonl or csv, got %q", format)
	}
	// Resolve the checkpoint first so a bad range is INVALID_ARGUMENT or
	// NOT_FOUND before any byte is sent.
	cp, err := s.log.Checkpoint(ctx, req.GetTreeSize())
	if err != nil {
		return err
	}
	if req.GetFromSeq() > cp.Size {
		return fault.InvalidField("from_seq", "%d is past tree_size %d", req.GetFromSeq(), cp.Size)
	}
	// A regulator reading the whole log is itself on record, once, before
	// the first byte is sent (a write in the policy table for that).
	p := access.FromContext(ctx)
	if p == nil { // the chain always sets one; never export unrecorded
		return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "no caller")
	}
	if err := s.log.RecordExport(ctx, p.ID, req.GetFromSeq(), cp, format); err != nil {
		return err
	}
	w := &chunkWriter{send: stream.Send}
	if _, err := merklelog.Export(ctx, s.store, req.GetFromSeq(), cp.Size, format, w, nil); err != nil {
		// A caller that went away ends the scan through ctx or a failed
		// Send; report that as it is, not as a fault of the log.
		if ctx.Err() != nil || w.err != nil {
			return errors.Join(ctx.Err(), w.err)
		}
		var te *merklelog.TamperError
		if errors.As(err, &te) {
			return fault.Wrap(err, fault.Internal, "AUDIT_LOG_TAMPERED", "audit entry %d cannot be exported", te.Index)
		}
		return fault.Wrap(err, fault.Internal, "EXPORT", "cannot export the audit log")
	}
	return nil
}

// chunkWriter turns the exporter's writes into ExportChunks.
type chunkWriter struct {
	send func(*sanzhiv1.ExportChunk) error
	err  error
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		c := min(len(p), exportChunk)
		// Send may keep the message until it is marshalled: copy, as the
		// exporter reuses its buffer.
		if err := w.send(&sanzhiv1.ExportChunk{Data: append([]byte(nil), p[:c]...)}); err != nil {
			w.err = err
			return n, err
		}
		n += c
		p = p[c:]
	}
	return n, nil
}
