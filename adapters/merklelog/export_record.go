package merklelog

import (
	"context"
	"encoding/hex"
	"strconv"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
)

// ActionExport is the audit action of an export through the API.
const ActionExport = "audit.export"

// ExportSubject names the checkpoint an export is proved against: the
// subject of its audit entry.
func ExportSubject(size uint64) string { return "checkpoints/" + strconv.FormatUint(size, 10) }

// RecordExport puts an export of leaves [from, cp.Size) on record before
// its first byte leaves, as every read is recorded before its result is
// seen. The bytes are a pure function of the range, the format and the
// signed checkpoint (leaves below a checkpoint never change), so the
// entry names those and the root: `sanzhi audit export` with the same
// arguments reproduces the bytes, and their hash, exactly.
func (l *Log) RecordExport(ctx context.Context, actor string, from uint64, cp sqlstore.StoredCheckpoint, format string) error {
	return l.store.RecordRead(ctx, audit.Record{Time: l.now(), Actor: actor, Action: ActionExport,
		Subject: ExportSubject(cp.Size), Payload: map[string]string{
			"from": strconv.FormatUint(from, 10), "to": strconv.FormatUint(cp.Size, 10),
			"format": format, "root_hash": hex.EncodeToString(cp.Root)}})
}
