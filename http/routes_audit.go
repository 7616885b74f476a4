package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

func (s *Server) auditRoutes() []adminRoute {
	return []adminRoute{
		{"GET", "/history/{kind}/{id}", permAuditRead, s.history},
		{"GET", "/events", permAuditRead, s.events},
	}
}

// historyKinds maps the API's entity kinds to stream types. A variant's
// events live in its product's stream: history finds the product by the
// variant's claim and keeps the events that mention the variant.
var historyKinds = map[string]string{
	"tenant": "tenant", "vendor": "vendor", "store": "store", "staff": "staff",
	"product": "product", "variant": "product", "inventory": "inventory", "category": "category",
	"cart": "cart", "order": "order", "payment": "payment", "shipment": "shipment",
	"promotion": "promotion", "customer": "customer",
}

// historyEntry is one event of an entity's timeline.
type historyEntry struct {
	Position string          `json:"position"`
	Version  int64           `json:"version"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	Actor    *string         `json:"actor"`
	At       time.Time       `json:"at"`
}

// history is GET /admin/history/{kind}/{id}?limit=&cursor=: one page of an
// entity's events, in order, with actor and time, read from the event log
// itself a page at a time.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	kind := chi.URLParam(r, "kind")
	streamType, ok := historyKinds[kind]
	if !ok {
		writeError(w, r, errs.New(errs.KindNotFound, "unknown_kind", "no history for kind "+kind))
		return
	}
	rawID := chi.URLParam(r, "id")
	id, err := uuid.Parse(rawID)
	if err != nil || len(rawID) != 36 {
		writeError(w, r, errs.NotFoundf(kind))
		return
	}
	if kind == "staff" && !c.PlatformAdmin {
		// Platform administrators are invisible to shop staff.
		pa, err := s.isPlatformAdmin(r.Context(), c.Acting, id)
		if err == nil && pa {
			err = errs.NotFoundf(kind)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
	}
	p, err := page(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	sp := eventstore.StreamPage{Limit: p.Limit + 1}
	if _, err := p.DecodeCursor(&sp.After); err != nil || sp.After < 0 {
		writeError(w, r, projections.ErrBadCursor)
		return
	}
	stream := id
	if kind == "variant" {
		owner, found, err := eventstore.Owner(r.Context(), s.Pool, c.Acting.UUID, "variant", id.String())
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !found {
			writeError(w, r, errs.NotFoundf(kind))
			return
		}
		stream, sp.Mentioning = owner, &id
	}
	typ, first, err := eventstore.StreamOrigin(r.Context(), s.Pool, c.Acting, stream)
	if errors.Is(err, eventstore.ErrNotFound) || err == nil && typ != streamType {
		writeError(w, r, errs.NotFoundf(kind))
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if vs := c.vendorScope(); vs != nil && !vendorOwns(stream, first, *vs) {
		writeError(w, r, errs.NotFoundf(kind))
		return
	}
	envs, err := eventstore.ReadStreamPage(r.Context(), s.Pool, c.Acting, stream, sp)
	if err == nil {
		// Personal data reads plain, or as erased once forgotten.
		err = s.Store.Registry().Unseal(r.Context(), s.Pool, envs)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]historyEntry, 0, len(envs))
	for _, e := range envs {
		items = append(items, entry(e))
	}
	writeJSON(w, http.StatusOK, projections.NewList(items, p.Limit, func(h historyEntry) any { return h.Version }))
}

// vendorOwns reports whether stream belongs to vendor v: its first event
// names v as its vendor_id (products, shipments) or it is v itself.
func vendorOwns(stream uuid.UUID, first []byte, v uuid.UUID) bool {
	if stream == v {
		return true
	}
	var f struct {
		Vendor uuid.UUID `json:"vendor_id"`
	}
	_ = json.Unmarshal(first, &f)
	return f.Vendor == v
}

func entry(e eventstore.Envelope) historyEntry {
	h := historyEntry{Position: e.Position.Token(), Version: e.Version, Type: e.Type, Data: e.Payload, At: e.RecordedAt}
	if e.Actor != "" {
		a := e.Actor
		h.Actor = &a
	}
	return h
}

type feedEntry struct {
	historyEntry
	StreamType string    `json:"stream_type"`
	StreamID   uuid.UUID `json:"stream_id"`
	EventID    uuid.UUID `json:"event_id"`
}

// events is GET /admin/events?after=&limit=&type=: the tenant's events in
// global order, a page read from the log; next_cursor is the position to
// pass as after (or as cursor, the name every other list uses).
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	q := r.URL.Query()
	var after eventstore.Position
	field, a := "after", q.Get("after")
	if a == "" {
		field, a = "cursor", q.Get("cursor")
	}
	if a != "" {
		p, err := eventstore.ParseToken(a)
		if err != nil {
			writeError(w, r, errs.Field(field, "is not a position token from this feed"))
			return
		}
		after = p
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, r, errs.Field("limit", "must be an integer from 1 to 1000"))
			return
		}
		limit = n
	}
	var envs []eventstore.Envelope
	var last eventstore.Position
	var err error
	if t := q["type"]; len(t) > 0 {
		if len(t) > 50 {
			writeError(w, r, errs.Field("type", "at most 50 types"))
			return
		}
		// Rare types: the page may hold fewer items than asked (none,
		// even), and next_cursor still moves past the events looked at.
		envs, last, err = eventstore.ReadTypedFeed(r.Context(), s.Pool, c.Acting, t, after, limit)
	} else {
		envs, err = eventstore.ReadFeed(r.Context(), s.Pool, after, limit, eventstore.FeedFilter{Tenant: c.Acting})
		if len(envs) > 0 {
			last = envs[len(envs)-1].Position
		}
	}
	if err == nil {
		// Personal data reads plain, or as erased once forgotten.
		err = s.Store.Registry().Unseal(r.Context(), s.Pool, envs)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	items := make([]feedEntry, 0, len(envs))
	for _, e := range envs {
		items = append(items, feedEntry{historyEntry: entry(e), StreamType: e.StreamType, StreamID: e.StreamID, EventID: e.EventID})
	}
	var next *string
	if !last.IsZero() {
		t := last.Token()
		next = &t
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": next})
}

// isPlatformAdmin reports whether staff id of tenant t is a platform
// administrator (false for an unknown id).
func (s *Server) isPlatformAdmin(ctx context.Context, t tenant.ID, id uuid.UUID) (bool, error) {
	var pa bool
	err := s.Pool.QueryRow(ctx, `SELECT coalesce(bool_or(platform_admin), false) FROM staff_accounts WHERE tenant_id = $1 AND id = $2`, t, id).Scan(&pa)
	return pa, err
}
