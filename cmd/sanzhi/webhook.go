package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/sanzhi/sanzhi/lending/webhook"
)

// webhookCmd holds tools for a bank's webhook integration.
func webhookCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", Short: "Tools for a bank's webhook integration"}
	cmd.AddCommand(webhookListenCmd())
	return cmd
}

// webhookListenCmd is a reference receiver: it verifies each delivery's
// signature exactly as a bank should (lending/webhook.Verify, before
// parsing), prints the event and answers 2xx, or 401 when the signature
// does not verify. --fail answers 500 to the first N deliveries, to watch
// the retries.
func webhookListenCmd() *cobra.Command {
	var addr, secret, secretFile string
	var fail int64
	cmd := &cobra.Command{
		Use:   "listen --secret-file FILE",
		Short: "Receive webhooks, verify their signatures and print the events (a reference receiver for testing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secretFile != "" {
				b, err := os.ReadFile(secretFile)
				if err != nil {
					return err
				}
				secret = strings.TrimSpace(string(b))
			}
			if secret == "" {
				return errors.New("give the secret SetWebhook returned: --secret-file FILE (or --secret)")
			}
			out := cmd.OutOrStdout()
			var seen atomic.Int64
			var mu sync.Mutex // deliveries may arrive concurrently
			seenIDs := map[string]bool{}
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
				if err != nil || r.Method != http.MethodPost {
					http.Error(w, "POST a JSON body", http.StatusBadRequest)
					return
				}
				if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0); err != nil {
					fmt.Fprintf(out, "REJECTED %s: %v\n", r.Header.Get(webhook.HeaderEventID), err)
					http.Error(w, "signature does not verify", http.StatusUnauthorized)
					return
				}
				if n := seen.Add(1); n <= fail {
					fmt.Fprintf(out, "answering 500 to delivery %d (--fail %d): %s attempt %s\n", n, fail,
						r.Header.Get(webhook.HeaderEventID), r.Header.Get(webhook.HeaderDeliveryAttempt))
					http.Error(w, "failing on purpose", http.StatusInternalServerError)
					return
				}
				id := r.Header.Get(webhook.HeaderEventID)
				dup := ""
				mu.Lock()
				if seenIDs[id] {
					dup = " (repeat: already processed, ignored)"
				}
				seenIDs[id] = true
				mu.Unlock()
				var ev struct {
					Type string `json:"type"`
					Line struct {
						Name         string `json:"name"`
						Status       string `json:"status"`
						Limit        string `json:"limit"`
						Drawn        string `json:"drawn"`
						Available    string `json:"available"`
						FreezeReason string `json:"freeze_reason"`
					} `json:"credit_line"`
				}
				_ = json.Unmarshal(body, &ev)
				fmt.Fprintf(out, "verified %s %s%s\n  line %s status %s limit %s drawn %s available %s %s\n",
					ev.Type, id, dup, ev.Line.Name, ev.Line.Status, ev.Line.Limit, ev.Line.Drawn, ev.Line.Available, ev.Line.FreezeReason)
				w.WriteHeader(http.StatusNoContent)
			})
			lis, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "listening on http://%s/ (signature verified with the given secret)\n", lis.Addr())
			srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8088", "address to listen on")
	cmd.Flags().StringVar(&secret, "secret", "", "the webhook secret (prefer --secret-file: arguments show in ps)")
	cmd.Flags().StringVar(&secretFile, "secret-file", "", "file holding the webhook secret")
	cmd.Flags().Int64Var(&fail, "fail", 0, "answer 500 to the first N verified deliveries")
	return cmd
}
