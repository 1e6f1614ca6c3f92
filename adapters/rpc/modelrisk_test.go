package rpc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// GetBacktestReport: the bank's risk managers and the regulators; the
// figures as fields and the rendering on request; bad input refused with
// the field named, and nothing recorded then.
func TestGetBacktestReport(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, st *sqlstore.Store) {
		e := newEnv(t, st)
		const product = "banks/tongxiang-rcb/products/sanzhi-xindai"
		v1, err := e.policies.UploadPolicy(e.as("risk-1"), &sanzhiv1.UploadPolicyRequest{Parent: product, Document: policyDoc(t, 1)})
		require.NoError(t, err)
		mr := sanzhiv1.NewModelRiskServiceClient(e.conn)
		queued := func() int64 {
			n, err := st.QueueLength(t.Context())
			require.NoError(t, err)
			return n
		}
		q0 := queued()

		// A version without decisions: zero counts, not an error.
		r, err := mr.GetBacktestReport(e.as("risk-1"), &sanzhiv1.GetBacktestReportRequest{Name: v1.Name})
		require.NoError(t, err)
		assert.Equal(t, v1.Name, r.Name)
		assert.Equal(t, v1.ContentHash, r.PolicyHash)
		assert.Zero(t, r.Decisions)
		assert.False(t, r.PerformanceMeasured)
		assert.False(t, r.HasReference)
		assert.Nil(t, r.ScoreStability)
		assert.Len(t, r.Grades, 6, "the example policy's grades")
		assert.Empty(t, r.Rendered)
		assert.False(t, r.FullView)
		assert.Equal(t, 0.1, r.PsiWatch)
		assert.Equal(t, int32(30), r.MinGroup)

		r, err = mr.GetBacktestReport(e.as("regulator"), &sanzhiv1.GetBacktestReportRequest{Name: v1.Name,
			AsOf: "2026-01-31", Format: sanzhiv1.BacktestFormat_BACKTEST_FORMAT_HTML, Language: "en"})
		require.NoError(t, err)
		assert.True(t, r.FullView)
		assert.Equal(t, "2026-01-31", r.AsOf)
		assert.Equal(t, "text/html; charset=utf-8", r.ContentType)
		assert.Contains(t, string(r.Rendered), "<svg")
		r, err = mr.GetBacktestReport(e.as("risk-1"), &sanzhiv1.GetBacktestReportRequest{Name: v1.Name,
			Format: sanzhiv1.BacktestFormat_BACKTEST_FORMAT_CSV})
		require.NoError(t, err)
		assert.Equal(t, "text/csv; charset=utf-8", r.ContentType)
		assert.Contains(t, string(r.Rendered), "section,summary")
		assert.Equal(t, q0+3, queued(), "each back-test audited")

		for _, c := range []struct {
			who   string
			req   *sanzhiv1.GetBacktestReportRequest
			code  codes.Code
			field string
		}{
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: "policies/1"}, codes.InvalidArgument, "name"},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: product + "/policies/x"}, codes.InvalidArgument, "name"},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name, AsOf: "31/01/2026"}, codes.InvalidArgument, "as_of"},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name, AsOf: "2026-02-30"}, codes.InvalidArgument, "as_of"},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name, AsOf: "2999-01-01"}, codes.InvalidArgument, "as_of"},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name, Format: 9}, codes.InvalidArgument, "format"},
			{"officer", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name}, codes.PermissionDenied, ""},
			{"risk-other", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name}, codes.PermissionDenied, ""},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: "banks/other-bank/products/sanzhi-xindai/policies/1"}, codes.PermissionDenied, ""},
			{"clerk-a", &sanzhiv1.GetBacktestReportRequest{Name: v1.Name}, codes.PermissionDenied, ""},
			{"risk-1", &sanzhiv1.GetBacktestReportRequest{Name: product + "/policies/7"}, codes.NotFound, ""},
		} {
			_, err := mr.GetBacktestReport(e.as(c.who), c.req)
			requireCode(t, err, c.code, c.field, "")
		}
		assert.Equal(t, q0+3, queued(), "nothing recorded on a refusal")
	})
}
