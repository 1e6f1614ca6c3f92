package sqlstore

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
)

// Photos returns the evidence photo port.
func (s *Store) Photos() photo.Store { return photoStore{s} }

type photoStore struct{ s *Store }

func (ps photoStore) Put(ctx context.Context, p *photo.Photo) error {
	return ps.s.conn.WriteOne(ctx, func(q Querier) error {
		return (&Tx{q: q, d: &ps.s.dialect}).PutPhoto(ctx, p)
	})
}

// PutPhoto implements photo.Writer: the photo is inserted in tx, once per
// content (a second insert of the same SHA-256 changes nothing).
func (tx *Tx) PutPhoto(ctx context.Context, p *photo.Photo) error {
	_, err := tx.q.Exec(ctx, `INSERT INTO evidence_photos (sha256, media_type, bytes, thumbnail, width, height, create_time)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING`,
		p.SHA256, p.MediaType, p.Bytes, p.Thumb, p.Width, p.Height, tsArg(p.CreateTime))
	return internal(err, "storing a photo")
}

func (ps photoStore) Get(ctx context.Context, sha string, full bool) (*photo.Photo, error) {
	p := &photo.Photo{SHA256: sha}
	// Serving a thumbnail must not read the photo's megabytes.
	cols, dest := `media_type, thumbnail, width, height, create_time`, []any{&p.MediaType, &p.Thumb, &p.Width, &p.Height, ts{&p.CreateTime}}
	if full {
		cols, dest = cols+`, bytes`, append(dest, &p.Bytes)
	}
	err := ps.s.conn.ReadOne(ctx, func(q Querier) error {
		return q.QueryRow(ctx, `SELECT `+cols+` FROM evidence_photos WHERE sha256 = $1`, sha).Scan(dest...)
	})
	if errors.Is(err, ErrNoRows) {
		return nil, fault.New(fault.NotFound, "PHOTO_NOT_FOUND", "no photo %s", sha)
	}
	if err != nil {
		return nil, internal(err, "reading a photo")
	}
	return p, nil
}

func (ps photoStore) Stored(ctx context.Context, shas []string) (map[string]bool, error) {
	out := make(map[string]bool, len(shas))
	if len(shas) == 0 {
		return out, nil
	}
	marks, args := make([]string, len(shas)), make([]any, len(shas))
	for i, s := range shas {
		marks[i], args[i] = "$"+strconv.Itoa(i+1), s
	}
	err := ps.s.conn.ReadOne(ctx, func(q Querier) error {
		rows, err := q.Query(ctx, `SELECT sha256 FROM evidence_photos WHERE sha256 IN (`+strings.Join(marks, ", ")+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sha string
			if err := rows.Scan(&sha); err != nil {
				return err
			}
			out[sha] = true
		}
		return rows.Err()
	})
	return out, internal(err, "reading which photos are stored")
}
