package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sanzhi/sanzhi/fault"
	"github.com/sanzhi/sanzhi/scoring/evidence"
	"github.com/sanzhi/sanzhi/scoring/evidence/photo"
)

// storedPhoto is a photo row with made-up bytes: the store keeps what it
// is given (photo.Process makes real ones).
func storedPhoto(content string) *photo.Photo {
	b := []byte("\xff\xd8\xff photo " + content)
	sum := sha256.Sum256(b)
	return &photo.Photo{SHA256: hex.EncodeToString(sum[:]), MediaType: photo.JPEG, Bytes: b,
		Thumb: []byte("\xff\xd8\xff thumb " + content), Width: 4000, Height: 3000, CreateTime: base}
}

// testPhotos holds the photo port: a round trip of every column, a second
// Put of the same content changing nothing, a thumbnail read without the
// photo's bytes, NotFound, and a photo put in an evidence transaction
// rolling back with it.
func testPhotos(t *testing.T, s Store) {
	ctx := context.Background()
	ps := s.Photos()
	p := storedPhoto("one")
	require.NoError(t, ps.Put(ctx, p))

	got, err := ps.Get(ctx, p.SHA256, true)
	require.NoError(t, err)
	assert.Equal(t, p, got)

	// Idempotent: the same key again (even with other fields) is a no-op.
	again := *p
	again.Width, again.CreateTime = 1, base.Add(3600e9)
	require.NoError(t, ps.Put(ctx, &again))
	got, err = ps.Get(ctx, p.SHA256, true)
	require.NoError(t, err)
	assert.Equal(t, 4000, got.Width)
	assert.Equal(t, base, got.CreateTime)

	thumb, err := ps.Get(ctx, p.SHA256, false)
	require.NoError(t, err)
	assert.Nil(t, thumb.Bytes)
	assert.True(t, bytes.Equal(p.Thumb, thumb.Thumb))
	assert.Equal(t, photo.JPEG, thumb.MediaType)

	_, err = ps.Get(ctx, storedPhoto("never stored").SHA256, false)
	assert.True(t, fault.Is(err, fault.NotFound), "got %v", err)

	stored, err := ps.Stored(ctx, []string{p.SHA256, storedPhoto("never stored").SHA256})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{p.SHA256: true}, stored)
	stored, err = ps.Stored(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, stored)

	// In an evidence transaction: kept when it commits, gone when it fails.
	boom := errors.New("boom")
	kept, lost := storedPhoto("kept"), storedPhoto("lost")
	for _, tc := range []struct {
		p   *photo.Photo
		err error
	}{{kept, nil}, {lost, boom}} {
		err := s.Evidence().Write(ctx, func(tx evidence.Writer) error {
			pw, ok := tx.(photo.Writer)
			require.True(t, ok, "an evidence transaction takes photos")
			if err := pw.PutPhoto(ctx, tc.p); err != nil {
				return err
			}
			return tc.err
		})
		require.ErrorIs(t, err, tc.err)
	}
	_, err = ps.Get(ctx, kept.SHA256, false)
	assert.NoError(t, err)
	_, err = ps.Get(ctx, lost.SHA256, false)
	assert.True(t, fault.Is(err, fault.NotFound), "rolled back, got %v", err)
}
