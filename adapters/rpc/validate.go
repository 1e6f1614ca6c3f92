package rpc

import (
	"context"
	"errors"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/sanzhi/sanzhi/fault"
)

// Validator checks requests against their protovalidate constraints before
// any handler runs; business checks follow in the domain.
type Validator struct {
	v protovalidate.Validator
}

// NewValidator compiles constraints lazily per message type.
func NewValidator() (*Validator, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	return &Validator{v: v}, nil
}

// Validate returns an Invalid fault with one violation per broken
// constraint, naming the field path, saying in words (English, and zh-CN
// as the localized message) what the field must be; the rule id is the
// violation's reason.
func (v *Validator) Validate(m proto.Message) error {
	err := v.v.Validate(m)
	if err == nil {
		return nil
	}
	var ve *protovalidate.ValidationError
	if !errors.As(err, &ve) {
		return fault.Wrap(err, fault.Internal, "VALIDATION", "cannot validate request")
	}
	var out fault.Violations
	for _, viol := range ve.Violations {
		id := viol.Proto.GetRuleId()
		s, ok := describe(id, rulesAt(viol.FieldDescriptor, viol.Proto.GetRule()), viol.RuleValue)
		if !ok {
			s = fallback
		}
		out = append(out, fault.Violation{Field: protovalidate.FieldPathString(viol.Proto.GetField()),
			Description: s.EN, ZH: s.ZH, Reason: id})
	}
	return out.Err()
}

func (v *Validator) interceptor() Interceptor {
	return Interceptor{
		Name: "validation",
		Unary: func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if m, ok := req.(proto.Message); ok {
				if err := v.Validate(m); err != nil {
					return nil, err
				}
			}
			return h(ctx, req)
		},
		Stream: func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			return h(srv, &validatingStream{ServerStream: ss, v: v})
		},
	}
}

type validatingStream struct {
	grpc.ServerStream
	v *Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if pm, ok := m.(proto.Message); ok {
		return s.v.Validate(pm)
	}
	return nil
}
