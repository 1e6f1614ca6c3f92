package app

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/sqlstore"
	"github.com/sanzhi/sanzhi/audit"
	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/paging"
	"github.com/sanzhi/sanzhi/resource"
)

// VisibleEntries is the part of the audit store a listing of the log
// reads: matching entries that the caller may see, in sequence order.
type VisibleEntries interface {
	ListVisibleEntries(ctx context.Context, q sqlstore.EntryQuery, limit int, visible func(audit.Entry) bool) (out []sqlstore.Leaf, resume int64, more bool, err error)
}

// EntryFilter selects audit entries. Empty fields match everything.
type EntryFilter struct {
	Actor, Action string
	Subject       string // exact
	Village       string // 12-digit code: entries about the village's resources
	// Since and Until bound the entries' time, [Since, Until); zero means
	// unbounded.
	Since, Until time.Time
}

// ListedEntry is one entry of a listing: its stored leaf and the entry
// parsed from the leaf's bytes.
type ListedEntry struct {
	Leaf  sqlstore.Leaf
	Entry audit.Entry
}

// EntryPage is a page of audit entries and the token for the next.
type EntryPage struct {
	Entries   []ListedEntry
	NextToken string // "" at the end
}

// ListEntries returns a page of the audit entries matching f that p may
// read (audit.Visible), in sequence order. pageSize 0 means
// paging.DefaultSize; a page may come back short, even empty, with a next
// token (the scan per page is bounded): keep paging until the token is
// "". An Until not after Since is fault.Invalid on end_time; a bad
// page_size or page_token (one issued for another filter) is fault.Invalid
// naming that field. A stored entry that does not parse is fault.Internal
// (AUDIT_ENTRY_CORRUPT).
func ListEntries(ctx context.Context, st VisibleEntries, p *access.Principal, f EntryFilter, pageSize int32, pageToken string) (EntryPage, error) {
	var v fault.Violations
	q := sqlstore.EntryQuery{Actor: f.Actor, Action: f.Action, Subject: f.Subject, Since: f.Since, Until: f.Until, AfterSeq: -1}
	if f.Village != "" {
		q.SubjectPrefix = resource.Village(f.Village) + "/"
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		v.Add("end_time", "must be after start_time")
	}
	// The token carries the filter it was issued for.
	scope := strings.Join([]string{q.Actor, q.Action, q.Subject, q.SubjectPrefix, q.Since.String(), q.Until.String()}, "\x00")
	if after, ok := paging.IntCursor(pageToken, scope, &v); ok {
		q.AfterSeq = after
	}
	limit := paging.Limit(pageSize, &v)
	if err := v.Err(); err != nil {
		return EntryPage{}, err
	}
	vis := audit.ScopeFor(p)
	q.Scope = &vis
	leaves, resume, more, err := st.ListVisibleEntries(ctx, q, limit, func(e audit.Entry) bool { return audit.Visible(p, e) })
	if err != nil {
		return EntryPage{}, err
	}
	var page EntryPage
	for _, l := range leaves {
		e, err := audit.ParseEntry(l.Data)
		if err != nil {
			return EntryPage{}, fault.Wrap(err, fault.Internal, "AUDIT_ENTRY_CORRUPT", "stored entry %d is not canonical", l.Seq)
		}
		page.Entries = append(page.Entries, ListedEntry{Leaf: l, Entry: e})
	}
	if more {
		page.NextToken = paging.Token(scope, strconv.FormatInt(resume, 10))
	}
	return page, nil
}
