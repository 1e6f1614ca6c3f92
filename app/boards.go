package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/household"
)

// boardTTL bounds how long a built 公示 board is served again. A write of
// evidence or households through this process drops every board at once
// (boards.gen); one through another sanzhid on the same database is seen
// within boardTTL, as the catalogues' effective answer is (catalogue's
// effectiveTTL). The board is what a whole village reads, often at once
// (a notice on the group chat): built once, it costs a reader nothing;
// rebuilt for each, 50 readers on 2 cores queued for over half a second.
const boardTTL = 2 * time.Second

// boards keeps each village's last built board.
type boards struct {
	// gen moves on after every write transaction of evidence or
	// households in this process, committed or not.
	gen atomic.Uint64
	mu  sync.Mutex
	m   map[string]*builtBoard
}

type builtBoard struct {
	// mu is held while the board is built: readers who miss together
	// wait for one build rather than each making their own.
	mu    sync.Mutex
	board *NoticeBoard
	gen   uint64
	day   household.Date
	built time.Time
}

func (b *boards) of(village string) *builtBoard {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]*builtBoard{}
	}
	e := b.m[village]
	if e == nil {
		e = &builtBoard{}
		b.m[village] = e
	}
	return e
}

// NoticeBoard returns the village's board on today: every entry on notice
// and every disputed one, oldest notice first. NotFound when the village
// has no catalogue. The board is shared between readers: read it, never
// change it.
func (a *App) NoticeBoard(ctx context.Context, village string) (*NoticeBoard, error) {
	e := a.boards.of(village)
	e.mu.Lock()
	defer e.mu.Unlock()
	// The generation is read before the data: a write that commits during
	// the build moves it on, and the next reader builds again.
	gen, today, now := a.boards.gen.Load(), a.Evidence.Today(), a.now()
	if e.board != nil && e.gen == gen && e.day == today && now.Sub(e.built) < boardTTL && !now.Before(e.built) {
		return e.board, nil
	}
	b, err := a.buildNoticeBoard(ctx, village)
	if err != nil {
		return nil, err
	}
	e.board, e.gen, e.day, e.built = b, gen, today, now
	return b, nil
}

// evidenceWrites and householdWrites move the boards' generation on after
// each write transaction of their store.
type evidenceWrites struct {
	evidence.Store
	b *boards
}

func (s evidenceWrites) Write(ctx context.Context, fn func(evidence.Writer) error) error {
	defer s.b.gen.Add(1)
	return s.Store.Write(ctx, fn)
}

// WriteGuarded is a write transaction too (reviews run in it): without
// this method the embedded store's would run and leave the boards stale.
func (s evidenceWrites) WriteGuarded(ctx context.Context, fn func(evidence.Writer) error) error {
	defer s.b.gen.Add(1)
	return s.Store.WriteGuarded(ctx, fn)
}

type householdWrites struct {
	household.Store
	b *boards
}

func (s householdWrites) Write(ctx context.Context, fn func(household.Writer) error) error {
	defer s.b.gen.Add(1)
	return s.Store.Write(ctx, fn)
}
