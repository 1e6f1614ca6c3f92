package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/sanzhi/sanzhi/adapters/demo"
	"github.com/sanzhi/sanzhi/lending/webhook"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// httpJSON calls the gateway as the demo principal key and decodes the
// answer; it returns the status code.
func httpJSON(t *testing.T, base, key, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return resp.StatusCode
}

// TestBankTourOverHTTP is the README's bank tour against the demo, over
// real TCP and the HTTP/JSON gateway: a bank records a consent, assesses
// a household, reads the line with its reasons, draws down and repays
// (amounts as strings), and receives a signed webhook when a black-list
// entry posted by the village freezes the line.
func TestBankTourOverHTTP(t *testing.T) {
	t.Parallel()
	// The bank's receiver: verify first, then keep the event.
	var mu sync.Mutex
	var got []map[string]any
	var secret []byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		if json.Unmarshal(body, &ev) == nil && ev["id"] == r.Header.Get(webhook.HeaderEventID) {
			got = append(got, ev)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	srv := start(t, Config{Database: demoURL(t), Demo: true, WebhookPoll: 50 * time.Millisecond})
	base := "http://" + srv.addrs.HTTP
	const (
		officer = "sz_demo_bank_officer"
		risk    = "sz_demo_bank_risk"
		product = "banks/tongxiang-rcb/products/sanzhi-xindai"
	)
	village := demoVillage(t)

	// The bank's webhook; the secret is shown once.
	var set struct {
		Secret string `json:"secret"`
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, risk, http.MethodPost, "/v1/banks/tongxiang-rcb/webhook",
		`{"url":"`+recv.URL+`/hooks"}`, &set))
	require.NotEmpty(t, set.Secret)
	mu.Lock()
	secret = []byte(set.Secret)
	mu.Unlock()

	// Consent and assessment, household by household, until one gets a line.
	var list struct {
		Households []struct {
			Name string `json:"name"`
		} `json:"households"`
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, "sz_demo_regulator", http.MethodGet,
		"/v1/villages/"+village+"/households?pageSize=20", "", &list))
	type line struct {
		Name, Limit, Drawn, Available, Status, FreezeReason string
		Reasons                                             []struct{ Code, ZhCn, En string }
	}
	var hh string
	var assessed struct{ Line line }
	clerkKey := "sz_demo_clerk_" + demo.Villages[0].Slug
	for i, h := range list.Households {
		auth := strings.Repeat(string(rune('a'+i%6)), 64)
		// The bank records the signed form: pending, it authorises nothing.
		var c struct{ Name, State string }
		require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+h.Name+"/consents",
			`{"bank":"banks/tongxiang-rcb","purposes":["assessment","post_loan"],"channel":"counter","authorisationHash":"`+auth+`"}`, &c))
		require.Equal(t, "CONSENT_STATE_PENDING", c.State)
		require.Equal(t, http.StatusForbidden, httpJSON(t, base, officer, http.MethodPost, "/v1/"+product+"/creditLines:assess",
			`{"household":"`+h.Name+`"}`, nil))
		// The village clerk, having seen the form, countersigns its hash.
		require.Equal(t, http.StatusOK, httpJSON(t, base, clerkKey, http.MethodPost, "/v1/"+c.Name+":countersign",
			`{"authorisationHash":"`+auth+`"}`, &c))
		require.Equal(t, "CONSENT_STATE_GRANTED", c.State)
		require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+product+"/creditLines:assess",
			`{"household":"`+h.Name+`"}`, &assessed))
		if assessed.Line.Limit != "0.00" {
			hh = h.Name
			break
		}
	}
	require.NotEmpty(t, hh, "some demo household gets a line")

	var l line
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodGet,
		"/v1/"+product+"/creditLines:lookup?household="+hh+"&purpose=post_loan&view=CREDIT_LINE_VIEW_FULL", "", &l))
	assert.Equal(t, "active", l.Status)
	assert.Equal(t, l.Limit, l.Available)
	require.NotEmpty(t, l.Reasons)
	assert.NotEmpty(t, l.Reasons[0].ZhCn)
	assert.NotEmpty(t, l.Reasons[0].En)

	var tx struct {
		DrawnAfter string
		Replayed   bool
		CreditLine line
	}
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+l.Name+":drawdown",
		`{"transactionId":"TX-1","amount":"20000","use":"agriculture"}`, &tx))
	assert.Equal(t, "20000.00", tx.DrawnAfter)
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+l.Name+":drawdown",
		`{"transactionId":"TX-1","amount":"20000.00","use":"agriculture"}`, &tx))
	assert.True(t, tx.Replayed, "a repeated transaction id returns the original result")
	var bad struct {
		Message string
		Details []map[string]any
	}
	assert.Equal(t, http.StatusBadRequest, httpJSON(t, base, officer, http.MethodPost, "/v1/"+l.Name+":drawdown",
		`{"transactionId":"TX-2","amount":"0.001","use":"agriculture"}`, &bad))
	b, _ := json.Marshal(bad.Details)
	assert.Contains(t, string(b), `"amount"`)
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodPost, "/v1/"+l.Name+":repayment",
		`{"transactionId":"TX-3","amount":"5000.50"}`, &tx))
	assert.Equal(t, "14999.50", tx.DrawnAfter)

	// The village posts a black-list entry: the line freezes at once and
	// the bank's webhook says so, signed.
	conn := dial(t, srv.addrs.GRPC)
	ev := sanzhiv1.NewEvidenceServiceClient(conn)
	slug := demo.Villages[0].Slug
	clerk := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer sz_demo_clerk_"+slug)
	reviewer := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer sz_demo_reviewer_"+slug)
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	sub, err := ev.SubmitEvidence(clerk, &sanzhiv1.SubmitEvidenceRequest{Parent: hh, RequestId: "tour-black",
		Evidence: &sanzhiv1.Evidence{Kind: sanzhiv1.EvidenceKind_EVIDENCE_KIND_BLACK_LIST, OccurredOn: today,
			Note: "村民代表会议评定", ValidUntil: time.Now().AddDate(1, 0, 0).Format("2006-01-02")}})
	require.NoError(t, err)
	_, err = ev.ReviewEvidence(reviewer, &sanzhiv1.ReviewEvidenceRequest{Name: sub.Name, Decision: sanzhiv1.ReviewDecision_REVIEW_DECISION_APPROVE})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, httpJSON(t, base, officer, http.MethodGet,
		"/v1/"+product+"/creditLines:lookup?household="+hh+"&purpose=post_loan&view=CREDIT_LINE_VIEW_FULL", "", &l))
	assert.Equal(t, "frozen", l.Status)
	assert.Equal(t, "0.00", l.Available)

	// The bank's event stream over HTTP: newline-delimited JSON, resumable
	// from a seq; the stream stays open, so the client ends it once it has
	// read the freeze. From seq 0 it first replays the demo book's whole
	// history (thousands of events); the deadline is only a bound for a
	// stream that never brings the freeze, which fails the test.
	wctx, wcancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer wcancel()
	wreq, err := http.NewRequestWithContext(wctx, http.MethodGet, base+"/v1/banks/tongxiang-rcb/creditLineEvents:watch?afterSeq=0", nil)
	require.NoError(t, err)
	wreq.Header.Set("Authorization", "Bearer "+officer)
	wresp, err := http.DefaultClient.Do(wreq)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, wresp.StatusCode)
	var watchedFreeze bool
	var lastSeq int64
	lines := bufio.NewScanner(wresp.Body)
	lines.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for !watchedFreeze && lines.Scan() {
		ln := strings.TrimSpace(lines.Text())
		if ln == "" {
			continue
		}
		var msg struct {
			Result struct {
				Seq  string `json:"seq"`
				Type string `json:"type"`
				Line string `json:"line"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal([]byte(ln), &msg), ln)
		var seq int64
		_, _ = fmt.Sscan(msg.Result.Seq, &seq)
		assert.Equal(t, lastSeq+1, seq, "consecutive seqs")
		lastSeq = seq
		watchedFreeze = msg.Result.Type == "credit_line.frozen" && msg.Result.Line == l.Name
	}
	wcancel()
	wresp.Body.Close()
	assert.True(t, watchedFreeze, "the freeze is in the bank's event stream over HTTP")

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range got {
			if e["type"] == "credit_line.frozen" && e["credit_line"].(map[string]any)["name"] == l.Name {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond, "a signed webhook announces the freeze")
	mu.Lock()
	var types []string
	for _, e := range got {
		types = append(types, e["type"].(string))
	}
	mu.Unlock()
	// Events arrive in the order they happened.
	assert.Equal(t, "credit_line.frozen", types[len(types)-1])
	assert.Contains(t, types, "credit_line.drawdown")
	assert.Less(t, bytes.Index([]byte(strings.Join(types, ",")), []byte("credit_line.repayment")),
		bytes.Index([]byte(strings.Join(types, ",")), []byte("credit_line.frozen")))
}
