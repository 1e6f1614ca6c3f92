package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sanzhi/sanzhi/fault"
)

// unavailable turns an error that means "the database cannot be reached"
// into an Unavailable fault (reason fault.StoreUnavailable), so callers get
// UNAVAILABLE with a retry delay instead of INTERNAL. The driver's text
// stays the hidden cause, for the log. Errors of a caller whose context
// ended are left as they are: that is the caller's deadline, not an
// outage.
func unavailable(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !connectionLost(err) {
		return err
	}
	return fault.Wrap(err, fault.Unavailable, fault.StoreUnavailable,
		"the database cannot be reached at the moment; retry shortly")
}

// connectionLost reports errors of the connection rather than of the
// statement: a refused or timed-out dial, a connection the server ended
// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now),
// SQLSTATE class 08 (connection exception), too many connections (53300),
// a connection cut mid-statement, and a closed pool.
func connectionLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", pe.Code == "53300":
			return true
		case strings.HasPrefix(pe.Code, "08"):
			return true
		}
		// Any other SQLSTATE is an answer from a live server, unless it
		// came while connecting (e.g. 3D000 database being dropped).
		var ce *pgconn.ConnectError
		return errors.As(err, &ce)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF),
		errors.Is(err, net.ErrClosed),
		errors.As(err, &ne),
		pgconn.Timeout(err),
		// A connect timeout inside pgx while the caller's own context is
		// still live (checked by the caller of connectionLost).
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	// pgxpool reports acquiring from a closed pool with puddle's
	// ErrClosedPool; matched by text to keep puddle an indirect module.
	return strings.Contains(err.Error(), "closed pool")
}
