package statement

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/ids"
	"github.com/honten/honten/domain/money"
)

// RemittanceStreamType is the event stream type of COD remittances.
const RemittanceStreamType = "cod_remittance"

type remittanceKind struct{}

func (remittanceKind) Kind() string { return "cod_remittance" }

// RemittanceID identifies a carrier's cash-on-delivery remittance.
type RemittanceID = ids.ID[remittanceKind]

// ParseRemittanceID parses a remittance ID.
func ParseRemittanceID(s string) (RemittanceID, error) { return ids.Parse[remittanceKind](s) }

// Remittance line statuses: collected, or a discrepancy for staff.
const (
	RemittanceCollected       = "collected"
	RemittanceAmountDiffers   = "amount_differs"
	RemittanceUnknownTracking = "unknown_tracking_no"
	RemittanceNotDelivered    = "not_delivered"
	RemittanceNotCOD          = "not_cod"
)

// RemittanceLine is one shipment's cash as the carrier remits it, with
// what the import made of it.
type RemittanceLine struct {
	// Key is the line's stable identity (a hash of its fields and
	// occurrence), claimed per tenant so a line is imported once.
	Key        string      `json:"key"`
	Record     int         `json:"record"`
	TrackingNo string      `json:"tracking_no"`
	Amount     money.Money `json:"amount"`
	Fee        money.Money `json:"fee"`
	RemittedOn time.Time   `json:"remitted_on"`
	Status     string      `json:"status"`
	Shipment   *uuid.UUID  `json:"shipment_id,omitempty"`
	Order      *uuid.UUID  `json:"order_id,omitempty"`
	// Expected is the shipment's COD amount when it differs.
	Expected *money.Money `json:"expected,omitempty"`
}

// RemittanceImported records a remittance file: the lines not imported
// before and their outcomes.
type RemittanceImported struct {
	ID         RemittanceID     `json:"id"`
	Lines      []RemittanceLine `json:"lines"`
	Duplicates int              `json:"duplicates"`
	By         string           `json:"by"`
	At         time.Time        `json:"at"`
}

// CarrierFeeRecorded records the fee a carrier kept from a shipment's
// collection, for the books to post.
type CarrierFeeRecorded struct {
	Remittance RemittanceID `json:"remittance_id"`
	Line       string       `json:"line_key"`
	Shipment   uuid.UUID    `json:"shipment_id"`
	Order      uuid.UUID    `json:"order_id"`
	Fee        money.Money  `json:"fee"`
	RemittedOn time.Time    `json:"remitted_on"`
	At         time.Time    `json:"at"`
}

// EventName implements aggregate.Event.
func (RemittanceImported) EventName() string { return "cod_remittance.imported.v1" }

// EventName implements aggregate.Event.
func (CarrierFeeRecorded) EventName() string { return "cod_remittance.carrier_fee_recorded.v1" }

// Events lists the statement and remittance events for the registry.
var Events = []aggregate.Event{Imported{}, LineMatched{}, LineIgnored{}, RemittanceImported{}, CarrierFeeRecorded{}}

// Remittance is an imported COD remittance.
type Remittance struct {
	aggregate.Base
	id RemittanceID
}

// ImportRemittance records a remittance of the lines not imported before,
// and the carrier fee of every line matched to a shipment. It returns
// ErrNoLines when lines and duplicates are both empty.
func ImportRemittance(id RemittanceID, lines []RemittanceLine, duplicates int, by string, now time.Time) (*Remittance, error) {
	if len(lines) == 0 && duplicates == 0 {
		return nil, ErrNoLines
	}
	if lines == nil {
		lines = []RemittanceLine{}
	}
	r := &Remittance{}
	r.record(RemittanceImported{ID: id, Lines: lines, Duplicates: duplicates, By: by, At: now.UTC()})
	for _, l := range lines {
		if l.Shipment != nil && l.Order != nil && l.Fee.IsPositive() {
			r.record(CarrierFeeRecorded{Remittance: id, Line: l.Key, Shipment: *l.Shipment, Order: *l.Order, Fee: l.Fee, RemittedOn: l.RemittedOn, At: now.UTC()})
		}
	}
	return r, nil
}

// RemittanceFromHistory rebuilds a remittance from its events, without
// validation: it is the only path that skips it.
func RemittanceFromHistory(history []aggregate.Event) *Remittance {
	r := &Remittance{}
	for _, e := range history {
		r.apply(e)
	}
	r.Replayed(len(history))
	return r
}

func (r *Remittance) record(e aggregate.Event) { r.apply(e); r.Record(e) }

func (r *Remittance) apply(e aggregate.Event) {
	if e, ok := e.(RemittanceImported); ok {
		r.id = e.ID
	}
}

// ID returns the remittance's id.
func (r *Remittance) ID() RemittanceID { return r.id }
