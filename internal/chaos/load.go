package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
)

// Shop is the shop the load runs against.
type Shop struct {
	Tenant   tenant.ID
	Code     string
	Owner    string
	Password string
	Location uuid.UUID
	SKUs     []string
	Variants []uuid.UUID
}

// SetupShop creates a single-brand shop with a bank account, an owner and
// products × variants SKUs of stock units each, through the command layer.
func SetupShop(ctx context.Context, cmds *commands.Service, code string, products, variants int, stock int64) (Shop, error) {
	by := commands.By{Actor: "chaos"}
	created, _, err := cmds.CreateTenant(ctx, commands.CreateTenant{By: by, Code: code, Name: code, Type: "single_brand"})
	if err != nil {
		return Shop{}, err
	}
	_, err = cmds.UpdateSettings(ctx, commands.UpdateSettings{Tenant: created.Tenant, By: by,
		Change: func(s tenant.Settings) (tenant.Settings, error) {
			s.BankAccount = &tenant.BankAccount{BankName: "カオス銀行", BankCode: "9998", BranchName: "本店", BranchCode: "001",
				AccountType: "ordinary", AccountNumber: "1234567", AccountHolder: "ｶｵｽ"}
			return s, nil
		}})
	if err != nil {
		return Shop{}, err
	}
	sh := Shop{Tenant: created.Tenant, Code: code, Owner: "owner@" + code + ".example.jp", Password: "chaos owner password", Location: created.Location.UUID}
	if _, _, err := cmds.InviteStaff(ctx, commands.InviteStaff{Tenant: created.Tenant, By: by, ByRole: "owner",
		Email: sh.Owner, Name: "店主", Role: "owner", Password: sh.Password}); err != nil {
		return Shop{}, err
	}
	for p := 0; p < products; p++ {
		pby := commands.By{Actor: "chaos", CommandID: uuid.Must(uuid.NewV7())}
		var vs []commands.VariantInput
		for v := 0; v < variants; v++ {
			sku := fmt.Sprintf("C%03d-%d", p, v)
			vs = append(vs, commands.VariantInput{SKU: sku, Price: money.MustNew(decimal.NewFromInt(int64(800+100*((p+v)%20))), money.JPY),
				TaxRate: []string{"10", "8"}[p%2]})
		}
		pid, _, err := cmds.CreateProduct(ctx, commands.CreateProduct{Tenant: created.Tenant, By: pby, Title: fmt.Sprintf("カオス商品 %d", p), Status: "active", Variants: vs})
		if err != nil {
			return Shop{}, err
		}
		set := commands.SetStock{Tenant: created.Tenant, By: by, Product: pid, Reason: "chaos"}
		for v := range vs {
			id := pby.DerivedID(100 + v)
			set.Levels = append(set.Levels, commands.StockSet{Variant: catalog.VariantID{UUID: id}, Location: created.Location, OnHand: stock})
			sh.SKUs = append(sh.SKUs, vs[v].SKU)
			sh.Variants = append(sh.Variants, id)
		}
		if _, err := cmds.SetStock(ctx, set); err != nil {
			return Shop{}, err
		}
	}
	return sh, nil
}

// Stats counts what the load did (acknowledged outcomes only).
type Stats struct {
	Carts, Lines, Reserved, Rejected      atomic.Int64
	Checkouts, Replays, CheckoutsRefused  atomic.Int64
	Payments, Shipped, Delivered, CODPaid atomic.Int64
	PriceEdits, StockEdits                atomic.Int64
	Errors                                atomic.Int64 // requests that got no answer, or an answer the load did not expect
}

// Load drives buyers and a back office over HTTP and remembers what the
// server acknowledged: carts, orders and the order each checkout key got.
type Load struct {
	Client *Client
	Shop   Shop
	Stats  Stats
	Log    interface {
		Warn(msg string, args ...any)
	}

	mu     sync.Mutex
	carts  []uuid.UUID
	orders map[string][]uuid.UUID // checkout Idempotency-Key → order ids answered
	errs   []string
}

func (l *Load) fail(format string, args ...any) {
	l.Stats.Errors.Add(1)
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	if len(l.errs) < 20 {
		l.errs = append(l.errs, msg)
	}
	l.mu.Unlock()
	l.Log.Warn("chaos: unexpected answer", "detail", msg)
}

// Run runs buyers concurrent buyers and one back office until ctx ends.
func (l *Load) Run(ctx context.Context, buyers int, seed uint64) {
	l.mu.Lock()
	if l.orders == nil {
		l.orders = map[string][]uuid.UUID{}
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for ctx.Err() == nil {
				l.buy(ctx, rng)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.backOffice(ctx, rand.New(rand.NewPCG(seed, 1<<32)))
	}()
	wg.Wait()
}

type cartJSON struct {
	ID    uuid.UUID  `json:"id"`
	Token string     `json:"token"`
	Lines []lineJSON `json:"lines"`
}

type lineJSON struct {
	ID          uuid.UUID `json:"id"`
	Reservation struct {
		Status string `json:"status"`
	} `json:"reservation"`
}

var buyer = map[string]any{"email": "chaos@example.jp", "name": "混沌 太郎", "phone": "09012345678",
	"shipping_address": map[string]any{"postal_code": "1000001", "prefecture": "東京都", "city": "千代田区", "line1": "千代田1-1"}}

// buy is one buyer: a cart, one to three lines, then a checkout when a
// line is reserved (sent twice now and then, as a client unsure of the
// first answer would).
func (l *Load) buy(ctx context.Context, rng *rand.Rand) {
	const store = "/api/v1/store"
	from := fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	a, err := l.Client.Do(ctx, Request{From: from, Method: "POST", Path: store + "/carts", Key: "cart-" + uuid.NewString()})
	if err != nil || a.Status != http.StatusCreated {
		l.unexpected(ctx, "create cart", a, err)
		return
	}
	var c cartJSON
	if err := a.JSON(&c); err != nil {
		l.fail("create cart: %v", err)
		return
	}
	l.Stats.Carts.Add(1)
	l.mu.Lock()
	l.carts = append(l.carts, c.ID)
	l.mu.Unlock()
	cartPath := store + "/carts/" + c.ID.String()
	// Reads send the position of the buyer's last write (read-your-writes).
	last := a.Header.Get("X-Event-Position")
	for range 1 + rng.IntN(3) {
		body := map[string]any{"sku": l.Shop.SKUs[rng.IntN(len(l.Shop.SKUs))], "quantity": 1 + rng.IntN(3)}
		a, err := l.Client.Do(ctx, Request{From: from, Method: "POST", Path: cartPath + "/items?wait=3000", Key: "add-" + uuid.NewString(), CartToken: c.Token, Body: body})
		if err != nil || (a.Status != http.StatusOK && a.Status != http.StatusAccepted) {
			l.unexpected(ctx, "add to cart", a, err)
			return
		}
		if p := a.Header.Get("X-Event-Position"); p != "" {
			last = p
		}
		l.Stats.Lines.Add(1)
	}
	// Wait (bounded) for every decision.
	var cur cartJSON
	deadline := time.Now().Add(time.Minute)
	for {
		a, err := l.Client.Do(ctx, Request{From: from, Method: "GET", Path: cartPath, CartToken: c.Token, Header: map[string]string{"X-Min-Position": last}})
		if err != nil || a.Status != http.StatusOK {
			l.unexpected(ctx, "get cart", a, err)
			return
		}
		if err := a.JSON(&cur); err != nil {
			l.fail("get cart: %v", err)
			return
		}
		pending := false
		for _, ln := range cur.Lines {
			pending = pending || ln.Reservation.Status == "pending"
		}
		if !pending {
			break
		}
		if time.Now().After(deadline) {
			l.fail("cart %s: reservations still pending after a minute", c.ID)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	reserved := 0
	for _, ln := range cur.Lines {
		switch ln.Reservation.Status {
		case "reserved":
			reserved++
			l.Stats.Reserved.Add(1)
		default:
			l.Stats.Rejected.Add(1)
			a, err := l.Client.Do(ctx, Request{From: from, Method: "DELETE", Path: cartPath + "/items/" + ln.ID.String(), CartToken: c.Token})
			// A DELETE sent again after a crash finds the line gone: done.
			gone := err == nil && a.Status == http.StatusNotFound && a.Attempts > 1
			if !gone && (err != nil || a.Status >= 300) {
				l.unexpected(ctx, "remove line", a, err)
				return
			}
		}
	}
	if reserved == 0 {
		return // abandoned: its holds expire
	}
	body := map[string]any{"payment_method": []string{"bank_transfer", "cod"}[rng.IntN(2)]}
	for k, v := range buyer {
		body[k] = v
	}
	key := "checkout-" + c.ID.String()
	sends := 1
	if rng.IntN(5) == 0 {
		sends = 2
	}
	for i := range sends {
		a, err := l.Client.Do(ctx, Request{From: from, Method: "POST", Path: cartPath + "/checkout", Key: key, CartToken: c.Token, Body: body})
		if err == nil && a.Status == http.StatusConflict && !Stuck(a) {
			l.Stats.CheckoutsRefused.Add(1) // a hold expired
			return
		}
		if err != nil || a.Status != http.StatusCreated {
			l.unexpected(ctx, "checkout", a, err)
			return
		}
		var out struct {
			OrderID uuid.UUID `json:"order_id"`
		}
		if err := a.JSON(&out); err != nil {
			l.fail("checkout: %v", err)
			return
		}
		l.mu.Lock()
		l.orders[key] = append(l.orders[key], out.OrderID)
		l.mu.Unlock()
		if i == 0 {
			l.Stats.Checkouts.Add(1)
		} else {
			l.Stats.Replays.Add(1)
		}
	}
}

// unexpected records a failed call unless the run is ending or the answer
// is a stuck key (counted by the client).
func (l *Load) unexpected(ctx context.Context, what string, a Answer, err error) {
	if ctx.Err() != nil || err == nil && Stuck(a) {
		return
	}
	if err != nil {
		l.fail("%s: %v", what, err)
		return
	}
	l.fail("%s: %d %.300s", what, a.Status, a.Body)
}

type orderSummary struct {
	ID    uuid.UUID   `json:"id"`
	Total money.Money `json:"total"`
}

type shipmentJSON struct {
	ID        uuid.UUID   `json:"id"`
	Status    string      `json:"status"`
	CODAmount money.Money `json:"cod_amount"`
}

// backOffice is the shop's staff: it confirms bank transfers, ships and
// delivers parcels, records cash on delivery, changes prices and adjusts
// stock.
func (l *Load) backOffice(ctx context.Context, rng *rand.Rand) {
	const admin = "/api/v1/admin"
	var token string
	for token == "" && ctx.Err() == nil {
		a, err := l.Client.Do(ctx, Request{Method: "POST", Path: admin + "/session", Body: map[string]string{"email": l.Shop.Owner, "password": l.Shop.Password}})
		if err != nil || a.Status != http.StatusCreated {
			l.unexpected(ctx, "sign in", a, err)
			continue
		}
		var s struct {
			Token string `json:"token"`
		}
		if err := a.JSON(&s); err != nil {
			l.fail("sign in: %v", err)
			continue
		}
		token = s.Token
	}
	done := make(chan struct{})
	defer func() { <-done }()
	mrng := rand.New(rand.NewPCG(rng.Uint64(), 2))
	go func() { defer close(done); l.merchandiser(ctx, mrng, token) }()
	list := func(status string) []orderSummary {
		a, err := l.Client.Do(ctx, Request{Method: "GET", Path: admin + "/orders?limit=20&status=" + status, Token: token})
		if err != nil || a.Status != http.StatusOK {
			l.unexpected(ctx, "list orders", a, err)
			return nil
		}
		var out struct {
			Items []orderSummary `json:"items"`
		}
		if err := a.JSON(&out); err != nil {
			l.fail("list orders: %v", err)
		}
		return out.Items
	}
	shipments := func(id uuid.UUID) []shipmentJSON {
		a, err := l.Client.Do(ctx, Request{Method: "GET", Path: admin + "/orders/" + id.String(), Token: token})
		if err != nil || a.Status != http.StatusOK {
			l.unexpected(ctx, "get order", a, err)
			return nil
		}
		var out struct {
			Shipments []shipmentJSON `json:"shipments"`
		}
		if err := a.JSON(&out); err != nil {
			l.fail("get order: %v", err)
		}
		return out.Shipments
	}
	// ok counts a 200, and accepts a 409 (the state moved on meanwhile: a
	// cancelled order, a parcel delivered by an earlier pass).
	ok := func(what string, a Answer, err error, n *atomic.Int64) {
		switch {
		case err == nil && a.Status == http.StatusOK:
			n.Add(1)
		case err == nil && a.Status == http.StatusConflict:
		default:
			l.unexpected(ctx, what, a, err)
		}
	}
	for ctx.Err() == nil {
		switch rng.IntN(3) {
		case 0:
			for _, o := range list("pending_payment") {
				a, err := l.Client.Do(ctx, Request{Method: "POST", Path: admin + "/orders/" + o.ID.String() + "/payments/confirm", Token: token,
					Key: "pay-" + o.ID.String(), Body: map[string]any{"amount": o.Total, "reference": "CHAOS-" + o.ID.String()[:8]}})
				ok("confirm payment", a, err, &l.Stats.Payments)
			}
		case 1:
			for _, o := range list("pending_shipment") {
				for _, s := range shipments(o.ID) {
					if s.Status != "pending" {
						continue
					}
					a, err := l.Client.Do(ctx, Request{Method: "POST", Path: admin + "/shipments/" + s.ID.String() + "/ship", Token: token,
						Key: "ship-" + s.ID.String(), Body: map[string]any{"carrier": "yamato", "tracking_no": "T" + s.ID.String()[:8]}})
					ok("ship", a, err, &l.Stats.Shipped)
				}
			}
		case 2:
			for _, o := range list("shipped") {
				for _, s := range shipments(o.ID) {
					if s.Status != "shipped" {
						continue
					}
					a, err := l.Client.Do(ctx, Request{Method: "POST", Path: admin + "/shipments/" + s.ID.String() + "/deliver", Token: token,
						Key: "deliver-" + s.ID.String()})
					ok("deliver", a, err, &l.Stats.Delivered)
					if err == nil && a.Status == http.StatusOK && s.CODAmount.IsPositive() {
						a, err := l.Client.Do(ctx, Request{Method: "POST", Path: admin + "/shipments/" + s.ID.String() + "/cod-collected", Token: token,
							Key: "cod-" + s.ID.String(), Body: map[string]any{"amount": s.CODAmount}})
						ok("cod collected", a, err, &l.Stats.CODPaid)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// merchandiser is the shop's catalog staff: price changes and stock
// adjustments, a few a second.
func (l *Load) merchandiser(ctx context.Context, rng *rand.Rand, token string) {
	const admin = "/api/v1/admin"
	ok := func(what string, a Answer, err error, n *atomic.Int64) {
		switch {
		case err == nil && (a.Status == http.StatusOK || a.Status == http.StatusCreated):
			n.Add(1)
		case err == nil && a.Status == http.StatusConflict: // stock below what is held
		default:
			l.unexpected(ctx, what, a, err)
		}
	}
	for ctx.Err() == nil {
		switch rng.IntN(2) {
		case 0:
			i := rng.IntN(len(l.Shop.Variants))
			price := money.MustNew(decimal.NewFromInt(int64(800+10*rng.IntN(100))), money.JPY)
			a, err := l.Client.Do(ctx, Request{Method: "PATCH", Path: admin + "/variants/" + l.Shop.Variants[i].String(), Token: token,
				Body: map[string]any{"price": price}})
			ok("change price", a, err, &l.Stats.PriceEdits)
		case 1:
			delta := rng.IntN(8) - 2
			if delta == 0 {
				delta = 1
			}
			a, err := l.Client.Do(ctx, Request{Method: "POST", Path: admin + "/inventory/adjustments", Token: token, Key: "adjust-" + uuid.NewString(),
				Body: map[string]any{"sku": l.Shop.SKUs[rng.IntN(len(l.Shop.SKUs))], "location_id": l.Shop.Location, "delta": delta, "reason": "chaos"}})
			ok("adjust stock", a, err, &l.Stats.StockEdits)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Carts returns the ids of the carts the server acknowledged.
func (l *Load) Carts() []uuid.UUID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]uuid.UUID(nil), l.carts...)
}

// Orders returns, per checkout Idempotency-Key, the order ids answered.
func (l *Load) Orders() map[string][]uuid.UUID {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]uuid.UUID, len(l.orders))
	for k, v := range l.orders {
		out[k] = append([]uuid.UUID(nil), v...)
	}
	return out
}

// Failures returns the first unexpected answers.
func (l *Load) Failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}
