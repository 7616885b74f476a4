package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payment"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/eventstore/bus"
)

// Policy names. Each is a consumer group: frozen, since renaming one
// redelivers every event to it.
const (
	PolicyShipmentsOnOrderPlaced  = "shipments_on_order_placed"
	PolicyOrderOnPaymentSettled   = "order_on_payment_settled"
	PolicyOrderOnShipmentProgress = "order_on_shipment_progress"
)

// Policies returns the order policies (process managers) the workers role
// runs: an event in, a command out. Each command runs in its own
// transaction with the triggering event's id as its command id and decides
// from the current state only, so a redelivered event has no second effect.
//
//   - shipments_on_order_placed: a COD order placed → its shipments (a
//     bank-transfer order waits for its payment).
//   - order_on_payment_settled: a payment settled → the order paid and its
//     shipments created (bank transfer), or completed when already
//     delivered (COD).
//   - order_on_shipment_progress: a shipment shipped or delivered → the
//     order partially_shipped, shipped, or completed once delivered and paid.
//
// Cancellation needs no policy: CancelOrder releases stock and cancels the
// payment and shipments in its own transaction.
func (s *Service) Policies() []bus.Handler {
	return []bus.Handler{
		s.policy(PolicyShipmentsOnOrderPlaced, order.StreamType, []string{order.Placed{}.EventName()},
			func(ctx context.Context, by By, env eventstore.Envelope, id order.ID) error {
				_, err := s.CreateShipments(ctx, CreateShipments{Tenant: env.Tenant, By: by, Order: id})
				return err
			}),
		s.policy(PolicyOrderOnPaymentSettled, payment.StreamType, []string{payment.Settled{}.EventName()}, s.advancePolicy),
		s.policy(PolicyOrderOnShipmentProgress, shipment.StreamType,
			[]string{shipment.Shipped{}.EventName(), shipment.Delivered{}.EventName()}, s.advancePolicy),
	}
}

func (s *Service) advancePolicy(ctx context.Context, by By, env eventstore.Envelope, id order.ID) error {
	_, err := s.AdvanceOrder(ctx, AdvanceOrder{Tenant: env.Tenant, By: by, Order: id})
	return err
}

// policy builds a handler of the events types of topic (a stream type)
// that runs do for the event's order.
func (s *Service) policy(name, topic string, types []string, do func(ctx context.Context, by By, env eventstore.Envelope, id order.ID) error) bus.Handler {
	return bus.Handler{Name: name, Topics: []string{topic}, Handle: func(ctx context.Context, env eventstore.Envelope) error {
		if !slices.Contains(types, env.Type) {
			return nil
		}
		id, err := s.OrderOf(ctx, env.Tenant, env.StreamType, env.StreamID)
		if errors.Is(err, eventstore.ErrNotFound) {
			return nil // nothing to act on (a stream of another shape)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		by := By{Actor: "system:" + name, Correlation: env.CorrelationID, Causation: env.EventID, CommandID: env.EventID}
		if err := do(ctx, by, env, id); err != nil && !errors.Is(err, eventstore.ErrDuplicate) {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}}
}
