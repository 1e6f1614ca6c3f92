package rpc

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sanzhi/sanzhi/access"
	"github.com/sanzhi/sanzhi/adapters/delivery"
	"github.com/sanzhi/sanzhi/fault"
	sanzhiv1 "github.com/sanzhi/sanzhi/proto/sanzhi/v1"
)

// Webhooks serves sanzhi.v1.WebhookService over the dispatcher, which owns
// the endpoints and the dead letters.
type Webhooks struct {
	sanzhiv1.UnimplementedWebhookServiceServer
	svc *delivery.Dispatcher
}

// NewWebhooks returns the handler. Without a dispatcher (svc nil) every
// method is UNAVAILABLE; the server's method walk builds it so.
func NewWebhooks(svc *delivery.Dispatcher) *Webhooks { return &Webhooks{svc: svc} }

func (s *Webhooks) ready() error {
	if s.svc == nil {
		return fault.New(fault.Unavailable, "WEBHOOKS_UNAVAILABLE", "this server does not deliver webhooks")
	}
	return nil
}

func (s *Webhooks) SetWebhook(ctx context.Context, req *sanzhiv1.SetWebhookRequest) (*sanzhiv1.SetWebhookResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ep, secret, err := s.svc.Set(ctx, access.FromContext(ctx), req.GetBank(), req.GetUrl())
	if err != nil {
		return nil, err
	}
	return &sanzhiv1.SetWebhookResponse{Webhook: WebhookOut(ep), Secret: secret}, nil
}

func (s *Webhooks) GetWebhook(ctx context.Context, req *sanzhiv1.GetWebhookRequest) (*sanzhiv1.Webhook, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	ep, err := s.svc.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return WebhookOut(ep), nil
}

func (s *Webhooks) ListDeadLetters(ctx context.Context, req *sanzhiv1.ListDeadLettersRequest) (*sanzhiv1.ListDeadLettersResponse, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	page, err := s.svc.ListDeadLetters(ctx, req.GetParent(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &sanzhiv1.ListDeadLettersResponse{NextPageToken: page.NextToken}
	for _, d := range page.DeadLetters {
		out.DeadLetters = append(out.DeadLetters, DeadLetterOut(d))
	}
	return out, nil
}

func (s *Webhooks) ReplayDeadLetter(ctx context.Context, req *sanzhiv1.ReplayDeadLetterRequest) (*sanzhiv1.DeadLetter, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	d, err := s.svc.Replay(ctx, access.FromContext(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return DeadLetterOut(d), nil
}

// WebhookOut converts an endpoint to its API form, without its secrets.
func WebhookOut(e *delivery.Endpoint) *sanzhiv1.Webhook {
	out := &sanzhiv1.Webhook{
		Name: e.Name(), Url: e.URL, DeliveredSeq: e.Cursor, Attempts: int32(e.Attempts), LastError: e.LastError,
		CreatedBy: e.CreatedBy, CreateTime: timestamppb.New(e.CreateTime),
		UpdatedBy: e.UpdatedBy, UpdateTime: timestamppb.New(e.UpdateTime),
	}
	if e.Attempts > 0 {
		out.NextAttemptTime = timestamppb.New(e.NextAttemptTime)
	}
	if e.PreviousUntil != nil {
		out.PreviousSecretExpireTime = timestamppb.New(*e.PreviousUntil)
	}
	return out
}

// DeadLetterOut converts a dead letter to its API form.
func DeadLetterOut(d *delivery.DeadLetter) *sanzhiv1.DeadLetter {
	out := &sanzhiv1.DeadLetter{
		Name: d.Name(), Seq: d.Seq, EventId: d.EventID, EventType: d.EventType, Attempts: int32(d.Attempts),
		LastError: d.LastError, DeadTime: timestamppb.New(d.DeadTime), ReplayedBy: d.ReplayedBy,
	}
	if d.ReplayTime != nil {
		out.ReplayTime = timestamppb.New(*d.ReplayTime)
	}
	return out
}
