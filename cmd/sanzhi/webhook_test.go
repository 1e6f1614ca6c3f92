package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/lending/webhook"
)

// syncBuffer is a bytes.Buffer safe for the command's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWebhookListenVerifies(t *testing.T) {
	out := &syncBuffer{}
	root := newRoot(out)
	root.SetArgs([]string{"webhook", "listen", "--addr", "127.0.0.1:0", "--secret", "s3cret", "--fail", "1"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	var url string
	require.Eventually(t, func() bool {
		url = regexp.MustCompile(`http://[0-9.:]+/`).FindString(out.String())
		return url != ""
	}, 5*time.Second, 10*time.Millisecond)

	body := []byte(`{"id":"e1","type":"credit_line.frozen","credit_line":{"name":"banks/b/products/p/creditLines/l","status":"frozen"}}`)
	post := func(sig string) int {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(webhook.HeaderSignature, sig)
		req.Header.Set(webhook.HeaderEventID, "e1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := webhook.Sign([]byte("s3cret"), time.Now(), body)
	assert.Equal(t, http.StatusUnauthorized, post(webhook.Sign([]byte("wrong"), time.Now(), body)))
	assert.Equal(t, http.StatusUnauthorized, post(webhook.Sign([]byte("s3cret"), time.Now().Add(-time.Hour), body)))
	assert.Equal(t, http.StatusInternalServerError, post(good), "--fail 1 refuses the first verified delivery")
	assert.Equal(t, http.StatusNoContent, post(good))
	assert.Equal(t, http.StatusNoContent, post(good))
	cancel()
	require.NoError(t, <-done)
	text := out.String()
	assert.Equal(t, 2, strings.Count(text, "REJECTED"))
	assert.Contains(t, text, "verified credit_line.frozen e1")
	assert.Contains(t, text, "repeat: already processed")
}
