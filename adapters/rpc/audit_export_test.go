package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/rpc"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// readExport concatenates an ExportEntries stream, as a client saving it
// to a file would.
func readExport(ctx context.Context, e *env, req *sanzhiv1.ExportEntriesRequest) ([]byte, error) {
	stream, err := e.audit.ExportEntries(ctx, req)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for {
		c, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		out.Write(c.Data)
	}
}

func TestAuditExportEntries(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		for range 3 {
			_, err := e.client.CreateHousehold(e.as("clerk-a"), validCreate(t, villageA))
			require.NoError(t, err)
		}
		reg := e.as("regulator")
		cp, err := e.audit.GetCheckpoint(reg, &sanzhiv1.GetCheckpointRequest{Refresh: true})
		require.NoError(t, err)
		require.Greater(t, cp.TreeSize, uint64(2))
		v, err := audit.NewVerifier(cp.VerifierKey)
		require.NoError(t, err)

		t.Run("RegulatorJSONLVerifiesAndIsTheCLIsBytes", func(t *testing.T) {
			got, err := readExport(reg, e, &sanzhiv1.ExportEntriesRequest{})
			require.NoError(t, err)
			rep, err := merklelog.VerifyExport(bytes.NewReader(got), v, nil, nil)
			require.NoError(t, err)
			assert.Equal(t, cp.TreeSize, rep.Leaves)
			assert.Equal(t, cp.TreeSize, rep.Checkpoint.Size)

			// The same bytes `sanzhi audit export` writes from the database.
			var direct bytes.Buffer
			_, err = merklelog.Export(context.Background(), st, 0, cp.TreeSize, "jsonl", &direct, nil)
			require.NoError(t, err)
			assert.Equal(t, direct.Bytes(), got)

			// A byte changed in transit is caught by the same verifier.
			bad := bytes.Replace(got, []byte(`"household.create"`), []byte(`"household.delete"`), 1)
			require.NotEqual(t, got, bad)
			_, err = merklelog.VerifyExport(bytes.NewReader(bad), v, nil, nil)
			require.Error(t, err)
		})
		t.Run("RangeFromSeqToTreeSize", func(t *testing.T) {
			// A later checkpoint exists; the export is proved against the
			// earlier one the caller named.
			_, err := e.client.CreateHousehold(e.as("clerk-a"), validCreate(t, villageA))
			require.NoError(t, err)
			_, err = e.audit.GetCheckpoint(reg, &sanzhiv1.GetCheckpointRequest{Refresh: true})
			require.NoError(t, err)
			got, err := readExport(reg, e, &sanzhiv1.ExportEntriesRequest{FromSeq: 1, TreeSize: cp.TreeSize})
			require.NoError(t, err)
			rep, err := merklelog.VerifyExport(bytes.NewReader(got), v, nil, nil)
			require.NoError(t, err)
			assert.Equal(t, cp.TreeSize, rep.Checkpoint.Size)
			// A header line, then leaves 1 .. TreeSize-1.
			assert.Equal(t, int(cp.TreeSize), bytes.Count(got, []byte("\n")))
		})
		t.Run("CSVVerifiesAgainstItsCheckpoint", func(t *testing.T) {
			got, err := readExport(reg, e, &sanzhiv1.ExportEntriesRequest{TreeSize: cp.TreeSize, Format: "csv"})
			require.NoError(t, err)
			rep, err := merklelog.VerifyExport(bytes.NewReader(got), v, []byte(cp.SignedNote), nil)
			require.NoError(t, err)
			assert.Equal(t, cp.TreeSize, rep.Leaves)
		})
		t.Run("OnlyRegulators", func(t *testing.T) {
			for _, who := range []string{"bank", "clerk-a"} {
				_, err := readExport(e.as(who), e, &sanzhiv1.ExportEntriesRequest{})
				requireCode(t, err, codes.PermissionDenied, "", "")
			}
			_, err := readExport(context.Background(), e, &sanzhiv1.ExportEntriesRequest{})
			require.Equal(t, codes.Unauthenticated, status.Code(err))
		})
		t.Run("BadRequests", func(t *testing.T) {
			_, err := readExport(reg, e, &sanzhiv1.ExportEntriesRequest{Format: "xml"})
			requireCode(t, err, codes.InvalidArgument, "format", "")
			_, err = readExport(reg, e, &sanzhiv1.ExportEntriesRequest{FromSeq: cp.TreeSize + 1, TreeSize: cp.TreeSize})
			requireCode(t, err, codes.InvalidArgument, "from_seq", "")
			_, err = readExport(reg, e, &sanzhiv1.ExportEntriesRequest{TreeSize: 999999})
			require.Error(t, err)
			assert.NotEqual(t, codes.Internal, status.Code(err))
		})
		t.Run("EndsWhenTheCallerGoesAway", func(t *testing.T) {
			// The handler itself, on a stream whose client has gone: a
			// cancelled context stops it before any Send, and a failed Send
			// stops it at once with that error (not INTERNAL).
			h := rpc.NewAudit(e.log, st)
			regP := access.WithPrincipal(context.Background(), &access.Principal{ID: e.ids["regulator"], Role: access.Regulator})
			ctx, cancel := context.WithCancel(regP)
			cancel()
			gone := &fakeExportStream{ctx: ctx}
			err := h.ExportEntries(&sanzhiv1.ExportEntriesRequest{}, gone)
			require.ErrorIs(t, err, context.Canceled)
			assert.Zero(t, gone.sends)

			broken := &fakeExportStream{ctx: regP, fail: status.Error(codes.Canceled, "client went away")}
			err = h.ExportEntries(&sanzhiv1.ExportEntriesRequest{}, broken)
			require.Equal(t, codes.Canceled, status.Code(err))
			assert.Equal(t, 1, broken.sends)
		})
	})
}

// fakeExportStream is a server stream whose client has gone away.
type fakeExportStream struct {
	grpc.ServerStream
	ctx   context.Context
	fail  error
	sends int
}

func (f *fakeExportStream) Context() context.Context { return f.ctx }

func (f *fakeExportStream) Send(*sanzhiv1.ExportChunk) error {
	f.sends++
	return f.fail
}

// exportCalls is ExportEntries' line in the every-write-one-entry test: one
// entry, about the checkpoint the export is proved against, by the
// regulator.
func exportCalls(t *testing.T, e *env) map[string]func() (string, string) {
	return map[string]func() (string, string){
		sanzhiv1.AuditService_ExportEntries_FullMethodName: func() (string, string) {
			cp, err := e.log.Checkpoint(context.Background(), 0)
			require.NoError(t, err)
			_, err = readExport(e.as("regulator"), e, &sanzhiv1.ExportEntriesRequest{TreeSize: cp.Size})
			require.NoError(t, err)
			return merklelog.ExportSubject(cp.Size), "regulator"
		},
	}
}
