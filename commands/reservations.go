package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// NewReservationWorker returns the reservation worker of the service's
// store and clock (package reservations), which learns a variant's sale
// locations and its tenant's hold time from the catalog.
func (s *Service) NewReservationWorker(o reservations.Options) *reservations.Worker {
	return reservations.NewWorker(s.store, s.Now, reservationMeta, o)
}

// reservationMeta is the reservations.Meta of the catalog: the locations
// the variant's product is sold from and the tenant's hold time.
func reservationMeta(ctx context.Context, tx *eventstore.Tx, t tenant.ID, v catalog.VariantID) ([]uuid.UUID, time.Duration, error) {
	pid, err := VariantProduct(ctx, tx, t, v)
	if err != nil {
		return nil, 0, err
	}
	p, err := products.Read(ctx, tx, t, pid.UUID)
	if err != nil {
		return nil, 0, err
	}
	tn, err := tenants.Read(ctx, tx, t, t.UUID)
	if err != nil {
		return nil, 0, err
	}
	return p.Locations(), time.Duration(tn.Settings().ReservationTTLMinutes) * time.Minute, nil
}

// SetHotThreshold sets how many add-to-cart requests per second (in this
// process) make a variant hot; 0 turns the detection off.
func (s *Service) SetHotThreshold(perSecond int) { s.hot.SetThreshold(perSecond) }

// SetHotConcurrency sets how many add-to-cart commands for hot variants
// run at once in this process (the rest wait their turn); 0 removes the
// limit. Call it before serving.
func (s *Service) SetHotConcurrency(n int) { s.hot.SetConcurrency(n) }
