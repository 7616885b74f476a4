// Package delivery holds the digital delivery aggregate: one per digital
// order line, issued when the order is paid (at once when free). Its link
// expires at a set time and allows a set number of downloads; each
// download is an event; staff may re-issue it (a new link, the count
// reset, the old link void).
//
// It imports only the standard library, uuid and other domain packages.
package delivery

import (
	"time"

	"github.com/google/uuid"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/errs"
)

// StreamType is the event stream type of deliveries.
const StreamType = "delivery"

// IDFor is the delivery of an order's line: one per line, so issuing it
// twice is the same stream.
func IDFor(order, line uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(order, append([]byte("delivery:"), line[:]...))
}

// Issued is a delivery's first event.
type Issued struct {
	ID           uuid.UUID `json:"id"`
	Order        uuid.UUID `json:"order_id"`
	Line         uuid.UUID `json:"line_id"`
	Product      uuid.UUID `json:"product_id"`
	SKU          string    `json:"sku"`
	File         string    `json:"file"`
	MaxDownloads int       `json:"max_downloads"`
	ExpiresAt    time.Time `json:"expires_at"`
	At           time.Time `json:"at"`
}

// Downloaded is one download of the file (N is its ordinal, from 1).
type Downloaded struct {
	N          int       `json:"n"`
	Generation int       `json:"generation"`
	At         time.Time `json:"at"`
}

// Reissued makes a new link (Generation), with a new expiry and the
// download count reset; links of earlier generations are void.
type Reissued struct {
	Generation   int       `json:"generation"`
	MaxDownloads int       `json:"max_downloads"`
	ExpiresAt    time.Time `json:"expires_at"`
	Reason       string    `json:"reason,omitempty"`
	At           time.Time `json:"at"`
}

// EventName implements aggregate.Event.
func (Issued) EventName() string { return "delivery.issued.v1" }

// EventName implements aggregate.Event.
func (Downloaded) EventName() string { return "delivery.downloaded.v1" }

// EventName implements aggregate.Event.
func (Reissued) EventName() string { return "delivery.reissued.v1" }

// Events lists the delivery events for the registry.
var Events = []aggregate.Event{Issued{}, Downloaded{}, Reissued{}}

// Errors: an expired, used-up or replaced link is gone (410).
var (
	ErrExpired  = errs.New(errs.KindGone, "download_expired", "this download link has expired: ask the shop for a new one")
	ErrUsedUp   = errs.New(errs.KindGone, "download_limit_reached", "this download link has been used as many times as it allows: ask the shop for a new one")
	ErrReplaced = errs.New(errs.KindGone, "download_link_replaced", "this download link was replaced by a newer one")
)

// Delivery is one digital line's download link.
type Delivery struct {
	aggregate.Base
	issued     Issued
	generation int
	max        int
	downloads  int
	expires    time.Time
}

// Issue records a new delivery.
func Issue(e Issued, now time.Time) *Delivery {
	e.At = now.UTC()
	e.ExpiresAt = e.ExpiresAt.UTC()
	d := &Delivery{}
	d.record(e)
	return d
}

// FromHistory rebuilds a delivery from its events.
func FromHistory(history []aggregate.Event) *Delivery {
	d := &Delivery{}
	for _, e := range history {
		d.apply(e)
	}
	d.Replayed(len(history))
	return d
}

// Download counts one download by a link of generation at now. It returns
// ErrReplaced (an older link), ErrExpired and ErrUsedUp.
func (d *Delivery) Download(generation int, now time.Time) error {
	switch {
	case generation != d.generation:
		return ErrReplaced
	case !now.Before(d.expires):
		return ErrExpired
	case d.downloads >= d.max:
		return ErrUsedUp
	}
	d.record(Downloaded{N: d.downloads + 1, Generation: generation, At: now.UTC()})
	return nil
}

// Reissue makes a new link allowing max downloads until expires.
func (d *Delivery) Reissue(max int, expires time.Time, reason string, now time.Time) {
	d.record(Reissued{Generation: d.generation + 1, MaxDownloads: max, ExpiresAt: expires.UTC(), Reason: reason, At: now.UTC()})
}

func (d *Delivery) record(e aggregate.Event) { d.apply(e); d.Record(e) }

func (d *Delivery) apply(e aggregate.Event) {
	switch e := e.(type) {
	case Issued:
		d.issued, d.generation, d.max, d.expires = e, 1, e.MaxDownloads, e.ExpiresAt
	case Downloaded:
		d.downloads = e.N
	case Reissued:
		d.generation, d.max, d.expires, d.downloads = e.Generation, e.MaxDownloads, e.ExpiresAt, 0
	}
}

// Issued returns the delivery's first event (order, line, file).
func (d *Delivery) Issued() Issued { return d.issued }

// Generation returns the current link's generation.
func (d *Delivery) Generation() int { return d.generation }

// ExpiresAt returns when the current link expires.
func (d *Delivery) ExpiresAt() time.Time { return d.expires }

// Downloads returns the downloads by the current link, and how many it allows.
func (d *Delivery) Downloads() (used, max int) { return d.downloads, d.max }
