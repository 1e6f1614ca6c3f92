//go:build benchfloors

package rpc

import (
	"context"

	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// FloorDB is what the load-test floors need from a database: one
// single-statement insert and one primary-key read on the store's pool.
type FloorDB interface {
	PrepareFloor(ctx context.Context) error
	FloorInsert(ctx context.Context, payload string) (int64, error)
	FloorSelect(ctx context.Context, id int64) (string, error)
}

// Floors serves sanzhi.v1.FloorService, the baselines load tests divide
// by. See proto/sanzhi/v1/floor.proto.
type Floors struct {
	sanzhiv1.UnimplementedFloorServiceServer
	db FloorDB
}

// NewFloors returns the floor handler over db; call db.PrepareFloor first.
func NewFloors(db FloorDB) *Floors { return &Floors{db: db} }

func (f *Floors) Empty(context.Context, *sanzhiv1.EmptyRequest) (*sanzhiv1.EmptyResponse, error) {
	return &sanzhiv1.EmptyResponse{}, nil
}

func (f *Floors) InsertOne(ctx context.Context, req *sanzhiv1.InsertOneRequest) (*sanzhiv1.InsertOneResponse, error) {
	id, err := f.db.FloorInsert(ctx, req.GetPayload())
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "floor insert failed")
	}
	return &sanzhiv1.InsertOneResponse{Id: id}, nil
}

func (f *Floors) SelectOne(ctx context.Context, req *sanzhiv1.SelectOneRequest) (*sanzhiv1.SelectOneResponse, error) {
	p, err := f.db.FloorSelect(ctx, req.GetId())
	if err != nil {
		return nil, fault.Wrap(err, fault.Internal, "INTERNAL", "floor select failed")
	}
	return &sanzhiv1.SelectOneResponse{Payload: p}, nil
}
