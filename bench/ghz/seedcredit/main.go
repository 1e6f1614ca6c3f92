// Command seedcredit prepares households for the GetCreditLine load test
// (bench/ghz/credit.sh) through a running sanzhid: for each household id
// read from stdin it records a counter-signed consent of the bank
// (ConsentService/GrantConsent, purposes assessment and post_loan, as a
// bank officer: pending), has the village clerk countersign the form's hash
// (ConsentService/CountersignConsent: granted) and assesses the household
// (CreditService/AssessCredit) as the officer. It then reads each line once with GetCreditLine and writes a
// ghz data file: a JSON array of GetCreditLineRequest, one per household.
//
// Keys come from the environment, never flags, so they stay out of ps:
//
//	SANZHI_BENCH_OFFICER_KEY  a bank_officer of the bank (required)
//	SANZHI_BENCH_CLERK_KEY    a village_clerk of the village (required)
//	SANZHI_BENCH_RISK_KEY     a bank_risk of the bank; when set, the bank
//	                          product's active policy is checked first
//	                          (exit status 3 when there is none)
//
//	psql … -Atc "SELECT id FROM households …" |
//	  go run ./bench/ghz/seedcredit -addr 127.0.0.1:7170 -village 330483102215 -out lines.json
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
	"github.com/sanzhi/sanzhi/resource"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7170", "sanzhid gRPC address")
	bank := flag.String("bank", "tongxiang-rcb", "bank id")
	product := flag.String("product", "sanzhi-xindai", "product id")
	village := flag.String("village", "330483102215", "12-digit village code of the households on stdin")
	purpose := flag.String("purpose", "post_loan", "purpose of the GetCreditLine requests written to -out")
	out := flag.String("out", "", "ghz data file to write (JSON array of GetCreditLineRequest)")
	view := flag.String("view", "basic", "view of the GetCreditLine requests written to -out: basic or full")
	workers := flag.Int("c", 8, "concurrent seeding calls")
	flag.Parse()
	if *view != "basic" && *view != "full" {
		fmt.Fprintln(os.Stderr, "seedcredit: -view must be basic or full")
		os.Exit(2)
	}
	if err := run(*addr, *bank, *product, *village, *purpose, "CREDIT_LINE_VIEW_"+strings.ToUpper(*view), *out, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "seedcredit:", err)
		if status.Code(err) == codes.NotFound && strings.Contains(err.Error(), "policy") {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

func run(addr, bank, product, village, purpose, view, out string, workers int) error {
	officer := os.Getenv("SANZHI_BENCH_OFFICER_KEY")
	if officer == "" {
		return fmt.Errorf("set SANZHI_BENCH_OFFICER_KEY to a bank_officer's API key")
	}
	clerk := os.Getenv("SANZHI_BENCH_CLERK_KEY")
	if clerk == "" {
		return fmt.Errorf("set SANZHI_BENCH_CLERK_KEY to the API key of a village_clerk of the village")
	}
	var ids []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			ids = append(ids, id)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("no household ids on stdin")
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	productName := resource.Product(bank, product)

	if risk := os.Getenv("SANZHI_BENCH_RISK_KEY"); risk != "" {
		p, err := sanzhiv1.NewPolicyServiceClient(cc).GetPolicy(withKey(ctx, risk),
			&sanzhiv1.GetPolicyRequest{Name: productName + "/policies/active"})
		if err != nil {
			return fmt.Errorf("active policy of %s: %w", productName, err)
		}
		fmt.Fprintf(os.Stderr, "active policy: %s (version %d, %s)\n", p.GetName(), p.GetVersion(), p.GetState())
	}

	octx, cctx := withKey(ctx, officer), withKey(ctx, clerk)
	consents := sanzhiv1.NewConsentServiceClient(cc)
	credit := sanzhiv1.NewCreditServiceClient(cc)
	var (
		next, eligible atomic.Int64
		mu             sync.Mutex
		firstErr       error
		wg             sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || octx.Err() != nil {
					return
				}
				hh := resource.Household(village, ids[i])
				sum := sha256.Sum256([]byte("bench consent " + hh))
				c, err := consents.GrantConsent(octx, &sanzhiv1.GrantConsentRequest{Parent: hh, Bank: resource.Bank(bank),
					Purposes: []string{"assessment", "post_loan"}, Channel: "counter",
					AuthorisationHash: hex.EncodeToString(sum[:])})
				if err != nil {
					fail(fmt.Errorf("GrantConsent %s: %w", hh, err))
					return
				}
				if c.GetState() == sanzhiv1.ConsentState_CONSENT_STATE_PENDING {
					if _, err := consents.CountersignConsent(cctx, &sanzhiv1.CountersignConsentRequest{Name: c.GetName(),
						AuthorisationHash: hex.EncodeToString(sum[:])}); err != nil {
						fail(fmt.Errorf("CountersignConsent %s: %w", hh, err))
						return
					}
				}
				a, err := credit.AssessCredit(octx, &sanzhiv1.AssessCreditRequest{Product: productName, Household: hh})
				if err != nil {
					fail(fmt.Errorf("AssessCredit %s: %w", hh, err))
					return
				}
				if a.GetLine().GetEligible() {
					eligible.Add(1)
				}
				// The request the load test sends, once, to fail early.
				if _, err := credit.GetCreditLine(octx, &sanzhiv1.GetCreditLineRequest{Product: productName,
					Household: hh, Purpose: purpose}); err != nil {
					fail(fmt.Errorf("GetCreditLine %s: %w", hh, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(os.Stderr, "seeded %d households: consent, assessment (%d eligible), one GetCreditLine each\n",
		len(ids), eligible.Load())
	if out == "" {
		return nil
	}
	type req struct {
		Product   string `json:"product"`
		Household string `json:"household"`
		Purpose   string `json:"purpose"`
		View      string `json:"view"`
	}
	reqs := make([]req, len(ids))
	for i, id := range ids {
		reqs[i] = req{Product: productName, Household: resource.Household(village, id), Purpose: purpose, View: view}
	}
	b, err := json.Marshal(reqs)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
