// Package app builds sanzhi's services once, for every transport: from a
// store, the data keyring, the audit signing key and the clock, New makes
// the domain services, joins them where one context reacts to another
// (a black-listed household's lines freeze in the same transaction), and
// adds the application services that sit between the domain and the
// ports: the policy cache, the lending inputs, re-assessment, simulation,
// replay and the household's query records.
//
// sanzhid's gRPC server and HTTP gateway, the operator's CLI and the test
// harnesses all build their services here, so each rule of wiring is
// written once; transports only translate.
package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/sanzhi/sanzhi/access/signin"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/adapters/merklelog"
	"github.com/sanzhi/sanzhi/adapters/pii"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/lending/credit"
	"github.com/sanzhi/sanzhi/scoring/catalogue"
	"github.com/sanzhi/sanzhi/scoring/dividend"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
	"github.com/sanzhi/sanzhi/scoring/policies"
	"github.com/sanzhi/sanzhi/scoring/shop"
)

// Deps is what the services are built from.
type Deps struct {
	Store *sqlstore.Store
	// Keyring seals and opens 身份证号. Nil for a command that never
	// touches one: sealing then fails with an error, and assessment (which
	// needs the head's date of birth) cannot run.
	Keyring *pii.Keyring
	// AuditKey is the note signer key checkpoints are signed with; empty
	// for a command that does not publish (App.Audit is then nil).
	AuditKey string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives the background workers' errors (discarded when nil).
	Log *slog.Logger
	// Webhooks configures delivery; its Now and Log default to the above.
	Webhooks delivery.Config
	// Meter records the app's counters (metrics.go); nil records nothing.
	Meter metric.MeterProvider
}

// App holds every service, built and joined.
type App struct {
	Store      *sqlstore.Store
	Keyring    *pii.Keyring
	Households *household.Service
	Catalogues *catalogue.Service
	Evidence   *evidence.Service
	Policies   *policies.Service
	// Dividends runs the villages' 股份+积分 dividend rounds.
	Dividends *dividend.Service
	Lending   *credit.Service
	// Shop is the villages' 兑换超市: goods, stock, redemption, receipts.
	Shop *shop.Service
	// SignIn signs people in to the web console: staff passwords,
	// household access codes, sessions.
	SignIn *signin.Service
	// Audit is the verifiable log; nil without Deps.AuditKey.
	Audit      *merklelog.Log
	Webhooks   *delivery.Dispatcher
	Reassessor *Reassessor
	Simulator  *Simulator
	Backtester *Backtester
	// now is the clock (Deps.Now).
	now func() time.Time
	// boards are the villages' built 公示 boards (NoticeBoard).
	boards *boards
	// evidenceStore is the evidence port every evidence service of the
	// app writes through (it tells boards of each write).
	evidenceStore evidence.Store
	// counters count events for /metrics (metrics.go).
	counters *counters
}

// New builds every service over d.Store and installs the lending side's
// reactions on it. Call it once per store: the reactions are the store's.
func New(d Deps) (*App, error) {
	if d.Store == nil {
		return nil, errors.New("app: no store")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, now := d.Store, d.Now
	cs, err := newCounters(d.Meter)
	if err != nil {
		return nil, fmt.Errorf("app metrics: %w", err)
	}
	a := &App{Store: st, Keyring: d.Keyring, now: now, boards: &boards{}, counters: cs}
	a.evidenceStore = evidenceWrites{Store: st.Evidence(), b: a.boards}
	a.Households = household.NewService(householdWrites{Store: st.Households(), b: a.boards}, pii.Sealer{Keyring: d.Keyring}, now)
	a.Catalogues = catalogue.NewService(st.Catalogues(), now)
	a.Evidence = evidence.NewService(a.evidenceStore, a.Catalogues, now)
	a.Policies = policies.NewService(st.Policies(), PolicyChecker, now)
	a.Dividends = dividend.NewService(st.Dividends(), now)
	a.Lending = NewLending(st, d.Keyring, a.Catalogues, now)
	a.Shop = shop.NewService(st.Shop(), a.Catalogues, now)
	a.SignIn = signin.NewService(st.SignIn(), now)
	st.React(lendingReactions(a.Lending))
	a.Lending.OnRefusal(cs.refusal)
	if d.AuditKey != "" {
		l, err := merklelog.New(st, d.AuditKey, now)
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		a.Audit = l
	}
	wc := d.Webhooks
	if wc.Now == nil {
		wc.Now = now
	}
	if wc.Log == nil {
		wc.Log = d.Log
	}
	a.Webhooks = delivery.New(st.Webhooks(), d.Keyring, wc)
	a.Lending.OnCommit(a.Webhooks.Notify)
	a.Reassessor = NewReassessor(a.Lending, d.Log)
	a.Simulator = &Simulator{Store: st, Keyring: d.Keyring, Policies: a.Policies, Catalogues: a.Catalogues, Now: now}
	// An activation without a gate report attaches one (issue 16 §5).
	a.Policies.SetGate(a.Simulator.EvaluateGate)
	a.Backtester = &Backtester{Store: st, Keyring: d.Keyring, Policies: a.Policies, Now: now}
	return a, nil
}

// NewLending builds a lending service over the store: the active policy
// (and the challenger, for shadow evaluation) read through a parse cache,
// the inputs from the catalogues and the data
// key. It installs no reactions (New does): a second service over the same
// store, as tests of concurrent writers build, must not replace them.
func NewLending(st *sqlstore.Store, kr *pii.Keyring, cats *catalogue.Service, now func() time.Time) *credit.Service {
	pols := NewActivePolicies(st.Policies())
	svc := credit.NewService(st.Lending(), pols, LendingInputs{Keyring: kr, Catalogues: cats}, now)
	svc.SetChallengers(Challengers{Store: st, Policies: pols})
	if st.ConcurrentWriters() {
		svc.SetRunCommitters(2) // a page's inserts overlap the previous page's commit
	}
	return svc
}
