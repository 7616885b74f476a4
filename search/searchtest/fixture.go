// Package searchtest is the conformance suite every search backend runs
// (PostgreSQL always; Meilisearch when MEILI_URL is set), its fixture
// catalog (testdata/catalog.tsv: Japanese and English products) and the
// relevance set (testdata/relevance.json) with its recall check.
//
// Documents reach a backend the way they do in production: catalog,
// inventory and vendor events are appended to the event store and the
// backend's projectors fold them. It must not be imported by non-test code.
package searchtest

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/inventory"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/search"
	"github.com/honten/honten/search/reading"
)

//go:embed testdata/catalog.tsv
var catalogTSV []byte

// Item is one product of the fixture catalog.
type Item struct {
	Handle   string
	Title    string
	Vendor   string
	Category []string // path from the root
	Price    int64
	Stock    int64 // -1: a digital product
	SKUs     []string
	Options  []string
	Draft    bool
}

// Catalog returns the fixture catalog, in file order.
func Catalog() []Item {
	var out []Item
	sc := bufio.NewScanner(bytes.NewReader(catalogTSV))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < 8 {
			f = append(f, "")
		}
		price, err1 := strconv.ParseInt(f[4], 10, 64)
		stock, err2 := strconv.ParseInt(f[5], 10, 64)
		if err1 != nil || err2 != nil {
			panic("searchtest: bad catalog line: " + line)
		}
		it := Item{Handle: f[0], Title: f[1], Vendor: f[2], Category: strings.Split(f[3], "/"), Price: price, Stock: stock,
			SKUs: split(f[6]), Options: split(f[7]), Draft: strings.HasPrefix(f[0], "draft-")}
		out = append(out, it)
	}
	return out
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Shop appends a tenant's catalog as events, the way commands would.
type Shop struct {
	Store  *eventstore.Store
	Tenant tenant.ID
	// Products maps handles to product ids; Variants maps SKUs to variant ids.
	Products   map[string]uuid.UUID
	Variants   map[string]uuid.UUID
	Vendors    map[string]uuid.UUID
	Categories map[string]uuid.UUID // by path "家電/オーディオ"
	Last       eventstore.Position
	versions   map[uuid.UUID]int64
	clock      time.Time
	location   uuid.UUID
}

// NewShop returns an empty shop for a fresh tenant. Event times start at a
// fixed instant and advance one minute per product, so "newest" is the
// catalog's order reversed.
func NewShop(store *eventstore.Store) *Shop {
	return &Shop{Store: store, Tenant: tenant.ID{UUID: uuid.Must(uuid.NewV7())},
		Products: map[string]uuid.UUID{}, Variants: map[string]uuid.UUID{}, Vendors: map[string]uuid.UUID{},
		Categories: map[string]uuid.UUID{}, versions: map[uuid.UUID]int64{},
		clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), location: uuid.Must(uuid.NewV7())}
}

// Append appends events to a stream at its next version.
func (s *Shop) Append(ctx context.Context, streamType string, id uuid.UUID, evs ...eventstore.Event) error {
	res, err := s.Store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: s.Tenant, Type: streamType, ID: id}, s.versions[id], evs,
			eventstore.Metadata{Tenant: s.Tenant, Actor: "searchtest"})
		return err
	})
	if err != nil {
		return fmt.Errorf("append %s %s: %w", streamType, id, err)
	}
	s.versions[id] += int64(len(evs))
	s.Last = res.Last
	return nil
}

func (s *Shop) vendor(ctx context.Context, name string) (uuid.UUID, error) {
	if id, ok := s.Vendors[name]; ok {
		return id, nil
	}
	id := uuid.Must(uuid.NewV7())
	s.Vendors[name] = id
	return id, s.Append(ctx, vendor.StreamType, id, vendor.Created{ID: vendor.ID{UUID: id}, Tenant: s.Tenant, Name: name,
		CommissionRate: decimal.Zero, Status: vendor.Active, At: s.clock})
}

func (s *Shop) category(ctx context.Context, path []string) (uuid.UUID, error) {
	var parent *catalog.CategoryID
	var id uuid.UUID
	for i := range path {
		p := strings.Join(path[:i+1], "/")
		if got, ok := s.Categories[p]; ok {
			id = got
		} else {
			id = uuid.Must(uuid.NewV7())
			s.Categories[p] = id
			if err := s.Append(ctx, catalog.CategoryStream, id, catalog.CategoryCreated{ID: catalog.CategoryID{UUID: id},
				Name: path[i], Handle: "c" + strconv.Itoa(len(s.Categories)), Parent: parent, At: s.clock}); err != nil {
				return id, err
			}
		}
		c := catalog.CategoryID{UUID: id}
		parent = &c
	}
	return id, nil
}

// Add appends one product: created, variants, published (unless a draft),
// and its stock.
func (s *Shop) Add(ctx context.Context, it Item) error {
	vid, err := s.vendor(ctx, it.Vendor)
	if err != nil {
		return err
	}
	cid, err := s.category(ctx, it.Category)
	if err != nil {
		return err
	}
	s.clock = s.clock.Add(time.Minute)
	pid := uuid.Must(uuid.NewV7())
	s.Products[it.Handle] = pid
	evs := []eventstore.Event{catalog.ProductCreated{ID: catalog.ProductID{UUID: pid}, Vendor: vid, Title: it.Title, Handle: it.Handle,
		Description: "", Categories: []catalog.CategoryID{catalog.CategoryID{UUID: cid}}, Locations: []uuid.UUID{},
		Status: catalog.ProductDraft, At: s.clock}}
	ft := catalog.FulfillmentPhysical
	if it.Stock < 0 {
		ft = catalog.FulfillmentDigital
	}
	price := money.MustNew(decimal.NewFromInt(it.Price), "JPY")
	for i, sku := range it.SKUs {
		var opts []catalog.Option
		if i < len(it.Options) {
			opts = []catalog.Option{{Name: "種類", Value: it.Options[i]}}
		}
		v := uuid.Must(uuid.NewV7())
		s.Variants[sku] = v
		evs = append(evs, catalog.VariantAdded{Variant: catalog.VariantID{UUID: v}, SKU: catalog.SKU(sku), Title: "Default",
			Options: opts, FulfillmentType: ft, Price: price, TaxRate: catalog.TaxStandard, Status: catalog.VariantActive, At: s.clock})
	}
	// Extra options share the first SKU's variant as extra variants.
	for i := len(it.SKUs); i < len(it.Options); i++ {
		sku := fmt.Sprintf("%s-%d", it.SKUs[0], i)
		v := uuid.Must(uuid.NewV7())
		s.Variants[sku] = v
		evs = append(evs, catalog.VariantAdded{Variant: catalog.VariantID{UUID: v}, SKU: catalog.SKU(sku), Title: it.Options[i],
			Options: []catalog.Option{{Name: "種類", Value: it.Options[i]}}, FulfillmentType: ft, Price: price,
			TaxRate: catalog.TaxStandard, Status: catalog.VariantActive, At: s.clock})
	}
	if !it.Draft {
		evs = append(evs, catalog.Published{At: s.clock})
	}
	if err := s.Append(ctx, catalog.ProductStream, pid, evs...); err != nil {
		return err
	}
	if it.Stock > 0 {
		return s.SetStock(ctx, it.SKUs[0], it.Stock)
	}
	return nil
}

// SetStock records that a variant has n units available.
func (s *Shop) SetStock(ctx context.Context, sku string, n int64) error {
	v := s.Variants[sku]
	return s.Append(ctx, inventory.StreamType, v, inventory.Adjusted{Location: s.location, Delta: n, OnHand: n,
		Reason: "count", Available: n, At: s.clock})
}

// LoadCatalog adds every item.
func (s *Shop) LoadCatalog(ctx context.Context, items []Item) error {
	for _, it := range items {
		if err := s.Add(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

// Registry returns a registry of the events the search projections fold.
func Registry() *eventstore.Registry {
	reg := eventstore.NewRegistry()
	for _, evs := range [][]eventstore.Event{catalog.Events, inventory.Events, vendor.Events, tenant.Events} {
		reg.Register(evs...)
	}
	return reg
}

// Backend is one search backend under test.
type Backend struct {
	// Index is what the suite queries.
	Index search.Index
	// Projectors feed it from the event log.
	Projectors []projections.Projector
	// QueryReadings is set when the backend also reads a query written in
	// kanji (手拭い finds 手ぬぐい) and respells loanwords (ティーシャツ,
	// ヘッドホーン): the PostgreSQL backend. Every backend matches queries
	// in kana against the documents' readings.
	QueryReadings bool
}

// NewBackendFunc returns the backend for a test on pool (a fresh database).
type NewBackendFunc func(t *testing.T, pool *pgxpool.Pool, reg *eventstore.Registry) Backend

// Env is a running backend on a fresh database, with its projectors
// following the log.
type Env struct {
	Pool    *pgxpool.Pool
	Store   *eventstore.Store
	Runner  *projections.Runner
	Backend Backend
}

// Start starts the backend's projectors on pool until the test ends.
func Start(t *testing.T, pool *pgxpool.Pool, newBackend NewBackendFunc) *Env {
	t.Helper()
	// The reading analyzer loads once per process on first use (seconds
	// under the race detector): load it before the projectors run, so that
	// waits on their position measure the projection alone.
	_, err := reading.Load()
	require.NoError(t, err)
	reg := Registry()
	b := newBackend(t, pool, reg)
	r, err := projections.NewRunner(pool, b.Projectors, projections.Options{MinPoll: time.Millisecond, MaxPoll: 20 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	require.NoError(t, r.Ensure(ctx))
	go func() { defer close(done); _ = r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	store := eventstore.New(pool, reg)
	store.OnCommit(func(eventstore.Position) { r.Nudge() })
	return &Env{Pool: pool, Store: store, Runner: r, Backend: b}
}

// Wait blocks until every projector has applied the event at pos (bounded
// by a deadline; no sleeping).
func (e *Env) Wait(t testing.TB, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, e.Runner.WaitFor(ctx, pos), "projections did not reach %s", pos)
}

func vendorUpdated(name string) vendor.Updated {
	return vendor.Updated{Name: name, CommissionRate: decimal.Zero, Status: vendor.Active}
}
