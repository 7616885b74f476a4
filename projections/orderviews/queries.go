package orderviews

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Customer is who ordered. It is personal data: never log it.
type Customer struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
}

// Summary is one order in the admin list.
type Summary struct {
	ID            uuid.UUID   `json:"id"`
	Number        string      `json:"order_number"`
	Status        string      `json:"status"`
	PaymentMethod string      `json:"payment_method"`
	PaymentStatus *string     `json:"payment_status"`
	Customer      Customer    `json:"customer"`
	Total         money.Money `json:"total"`
	VendorIDs     []uuid.UUID `json:"vendor_ids"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

// Detail is one order with its lines, payments, shipments and history.
type Detail struct {
	ID              uuid.UUID     `json:"id"`
	Number          string        `json:"order_number"`
	Status          string        `json:"status"`
	PaymentMethod   string        `json:"payment_method"`
	Customer        Customer      `json:"customer"`
	ShippingAddress order.Address `json:"shipping_address"`
	Note            string        `json:"note"`
	// Lines are the lines as placed, each with the units left (Quantity)
	// and the units cancelled.
	Lines []Line `json:"lines"`
	// Totals is nil for vendor staff, who see their own lines only.
	Totals    *order.Totals `json:"totals"`
	Payments  []Payment     `json:"payments"`
	Shipments []Shipment    `json:"shipments"`
	History   []Change      `json:"status_history"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	// Version is the order stream's version (the ETag).
	Version int64 `json:"version"`

	accessTokenHash string
	customerID      *uuid.UUID
}

// Line is an order line with the units left on it (Quantity, zero once
// every unit is cancelled) and the units cancelled.
type Line struct {
	order.Line
	CancelledQuantity int64 `json:"cancelled_quantity"`
}

// Payment is an order's payment.
type Payment struct {
	ID            uuid.UUID       `json:"id"`
	Method        string          `json:"method"`
	Status        string          `json:"status"`
	Amount        money.Money     `json:"amount"`
	Received      money.Money     `json:"received"`
	BalanceDue    money.Money     `json:"balance_due"`
	RefundDue     money.Money     `json:"refund_due"`
	ReferenceCode string          `json:"reference_code,omitempty"`
	DueAt         *time.Time      `json:"due_at"`
	BankAccount   json.RawMessage `json:"bank_account,omitempty"`
	Receipts      []Receipt       `json:"receipts"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// Shipment is one vendor's parcel of an order.
type Shipment struct {
	ID          uuid.UUID       `json:"id"`
	OrderID     uuid.UUID       `json:"order_id"`
	VendorID    uuid.UUID       `json:"vendor_id"`
	Status      string          `json:"status"`
	Carrier     string          `json:"carrier"`
	TrackingNo  string          `json:"tracking_no"`
	Lines       []shipment.Line `json:"lines"`
	CODAmount   money.Money     `json:"cod_amount"`
	CreatedAt   time.Time       `json:"created_at"`
	ShippedAt   *time.Time      `json:"shipped_at"`
	DeliveredAt *time.Time      `json:"delivered_at"`
	CancelledAt *time.Time      `json:"cancelled_at"`
	// Version is the shipment stream's version (the ETag).
	Version int64 `json:"version"`
}

// Receipt is one payment received: a bank transfer staff confirmed
// (kind bank_transfer), or the cash a carrier collected for a shipment
// (kind cod).
type Receipt struct {
	Kind       string      `json:"kind"`
	Amount     money.Money `json:"amount"`
	ReceivedAt time.Time   `json:"received_at"`
	Reference  string      `json:"reference,omitempty"`
	Shipment   *uuid.UUID  `json:"shipment_id,omitempty"`
	By         string      `json:"by,omitempty"`
}

// Change is one step of an order's status history.
type Change struct {
	From   *string   `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
}

// Filter narrows List; zero fields do not filter.
type Filter struct {
	Status        string
	PaymentMethod string
	// Vendor limits the list to orders with a line of the vendor (vendor
	// staff are always limited to theirs).
	Vendor *uuid.UUID
	// Query matches the order number, the customer's e-mail or name
	// (case-insensitive substring).
	Query                  string
	CreatedFrom, CreatedTo *time.Time // from inclusive, to exclusive
	// Customer limits the list to a customer's orders (placed signed in,
	// or as a guest with the e-mail they verified).
	Customer *uuid.UUID
}

type listCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

func parseMoney(amount, cur string) (money.Money, error) {
	return money.Parse(amount, money.Currency(strings.TrimSpace(cur)))
}

// List returns tenant t's orders matching f, newest first. It returns
// projections.ErrBadCursor for a cursor it did not issue.
func List(ctx context.Context, q eventstore.Querier, t tenant.ID, f Filter, p projections.Page) (projections.List[Summary], error) {
	var after listCursor
	hasCursor, err := p.DecodeCursor(&after)
	if err != nil {
		return projections.List[Summary]{}, err
	}
	var like *string
	if s := strings.TrimSpace(f.Query); s != "" {
		esc := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
		like = &esc
	}
	const query = `SELECT o.order_id, o.number, o.status, o.payment_method, p.status, o.email, o.name, o.total::text, o.currency,
       o.vendor_ids, o.created_at, o.updated_at
FROM order_views o
LEFT JOIN order_view_payments p ON p.tenant_id = o.tenant_id AND p.payment_id = o.payment_id
WHERE o.tenant_id = $1
  AND ($2::text IS NULL OR o.status = $2)
  AND ($3::text IS NULL OR o.payment_method = $3)
  AND ($4::uuid IS NULL OR o.vendor_ids @> ARRAY[$4::uuid])
  AND ($5::text IS NULL OR o.number ILIKE $5 OR o.email ILIKE $5 OR o.name ILIKE $5)
  AND ($6::timestamptz IS NULL OR o.created_at >= $6)
  AND ($7::timestamptz IS NULL OR o.created_at < $7)
  AND (NOT $8 OR (o.created_at, o.order_id) < ($9, $10))
  AND ($12::uuid IS NULL OR o.customer_id = $12)
ORDER BY o.created_at DESC, o.order_id DESC
LIMIT $11`
	rows, err := q.Query(ctx, query, t, nullText(f.Status), nullText(f.PaymentMethod), f.Vendor, like, f.CreatedFrom, f.CreatedTo,
		hasCursor, after.At, after.ID, p.Limit+1, f.Customer)
	if err != nil {
		return projections.List[Summary]{}, fmt.Errorf("list orders: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Summary, error) {
		var s Summary
		var total, cur string
		if err := r.Scan(&s.ID, &s.Number, &s.Status, &s.PaymentMethod, &s.PaymentStatus, &s.Customer.Email, &s.Customer.Name,
			&total, &cur, &s.VendorIDs, &s.CreatedAt, &s.UpdatedAt); err != nil {
			return s, err
		}
		s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
		var err error
		s.Total, err = parseMoney(total, cur)
		return s, err
	})
	if err != nil {
		return projections.List[Summary]{}, fmt.Errorf("list orders: %w", err)
	}
	return projections.NewList(items, p.Limit, func(s Summary) any { return listCursor{s.CreatedAt, s.ID} }), nil
}

// Get returns one of tenant t's orders with its payments, shipments and
// history. For a vendor scope it shows only that vendor's lines and
// shipments, no totals and no payments, and an order without a line of
// the vendor is eventstore.ErrNotFound, like a missing one.
func Get(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID, scope *uuid.UUID) (Detail, error) {
	d, err := getOrder(ctx, q, t, id)
	if err != nil {
		return Detail{}, err
	}
	if scope != nil {
		var mine []Line
		for _, l := range d.Lines {
			if l.Vendor == *scope {
				mine = append(mine, l)
			}
		}
		if len(mine) == 0 {
			return Detail{}, fmt.Errorf("order %s: %w", id, eventstore.ErrNotFound)
		}
		d.Lines, d.Totals = mine, nil
	}
	if scope == nil {
		if d.Payments, err = paymentsOf(ctx, q, t, id); err != nil {
			return Detail{}, err
		}
	}
	if d.Shipments, err = shipmentsOf(ctx, q, t, id, scope); err != nil {
		return Detail{}, err
	}
	if d.History, err = historyOf(ctx, q, t, id); err != nil {
		return Detail{}, err
	}
	return d, nil
}

func getOrder(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (Detail, error) {
	const query = `SELECT order_id, number, status, payment_method, email, name, phone, shipping_address, note, lines, totals,
       access_token_hash, created_at, updated_at, version, customer_id
FROM order_views WHERE tenant_id = $1 AND order_id = $2`
	var d Detail
	var addr, lines, totals []byte
	err := q.QueryRow(ctx, query, t, id).Scan(&d.ID, &d.Number, &d.Status, &d.PaymentMethod, &d.Customer.Email, &d.Customer.Name,
		&d.Customer.Phone, &addr, &d.Note, &lines, &totals, &d.accessTokenHash, &d.CreatedAt, &d.UpdatedAt, &d.Version, &d.customerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Detail{}, fmt.Errorf("order %s: %w", id, eventstore.ErrNotFound)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("order %s: %w", id, err)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.Totals = &order.Totals{}
	for _, part := range []struct {
		raw []byte
		v   any
	}{{addr, &d.ShippingAddress}, {lines, &d.Lines}, {totals, d.Totals}} {
		if err := json.Unmarshal(part.raw, part.v); err != nil {
			return Detail{}, fmt.Errorf("order %s: %w", id, err)
		}
	}
	d.Payments, d.Shipments, d.History = []Payment{}, []Shipment{}, []Change{}
	return d, nil
}

func paymentsOf(ctx context.Context, q eventstore.Querier, t tenant.ID, orderID uuid.UUID) ([]Payment, error) {
	const query = `SELECT payment_id, method, status, currency, amount::text, received::text, refund_due::text, reference_code,
       due_at, bank_account, receipts, created_at, updated_at
FROM order_view_payments WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at, payment_id`
	rows, err := q.Query(ctx, query, t, orderID)
	if err != nil {
		return nil, fmt.Errorf("payments of %s: %w", orderID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Payment, error) {
		var p Payment
		var cur, amount, received, refund string
		var account, receipts []byte
		if err := r.Scan(&p.ID, &p.Method, &p.Status, &cur, &amount, &received, &refund, &p.ReferenceCode, &p.DueAt,
			&account, &receipts, &p.CreatedAt, &p.UpdatedAt); err != nil {
			return p, err
		}
		var err error
		if p.Amount, err = parseMoney(amount, cur); err != nil {
			return p, err
		}
		if p.Received, err = parseMoney(received, cur); err != nil {
			return p, err
		}
		if p.RefundDue, err = parseMoney(refund, cur); err != nil {
			return p, err
		}
		p.BalanceDue = money.Zero(p.Amount.Currency())
		if b, err := p.Amount.Sub(p.Received); err == nil && b.IsPositive() && p.Status != "cancelled" {
			p.BalanceDue = b
		}
		if account != nil {
			p.BankAccount = account
		}
		var stored []storedReceipt
		if err := json.Unmarshal(receipts, &stored); err != nil {
			return p, err
		}
		p.Receipts = make([]Receipt, len(stored))
		for i, r := range stored {
			m, err := parseMoney(r.Amount, cur)
			if err != nil {
				return p, err
			}
			p.Receipts[i] = Receipt{Kind: r.Kind, Amount: m, ReceivedAt: r.ReceivedAt.UTC(), Reference: r.Reference, Shipment: r.Shipment, By: r.By}
		}
		if p.DueAt != nil {
			u := p.DueAt.UTC()
			p.DueAt = &u
		}
		p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("payments of %s: %w", orderID, err)
	}
	if out == nil {
		out = []Payment{}
	}
	return out, nil
}

const shipmentCols = `shipment_id, order_id, vendor_id, status, carrier, tracking_no, lines, currency, cod_amount::text,
       created_at, shipped_at, delivered_at, cancelled_at, version`

func scanShipment(r pgx.CollectableRow) (Shipment, error) {
	var s Shipment
	var lines []byte
	var cur, cod string
	if err := r.Scan(&s.ID, &s.OrderID, &s.VendorID, &s.Status, &s.Carrier, &s.TrackingNo, &lines, &cur, &cod,
		&s.CreatedAt, &s.ShippedAt, &s.DeliveredAt, &s.CancelledAt, &s.Version); err != nil {
		return s, err
	}
	if err := json.Unmarshal(lines, &s.Lines); err != nil {
		return s, err
	}
	var err error
	s.CODAmount, err = parseMoney(cod, cur)
	s.CreatedAt = s.CreatedAt.UTC()
	for _, p := range []**time.Time{&s.ShippedAt, &s.DeliveredAt, &s.CancelledAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	return s, err
}

func shipmentsOf(ctx context.Context, q eventstore.Querier, t tenant.ID, orderID uuid.UUID, scope *uuid.UUID) ([]Shipment, error) {
	rows, err := q.Query(ctx, `SELECT `+shipmentCols+` FROM order_view_shipments
WHERE tenant_id = $1 AND order_id = $2 AND ($3::uuid IS NULL OR vendor_id = $3) ORDER BY created_at, shipment_id`, t, orderID, scope)
	if err != nil {
		return nil, fmt.Errorf("shipments of %s: %w", orderID, err)
	}
	out, err := pgx.CollectRows(rows, scanShipment)
	if err != nil {
		return nil, fmt.Errorf("shipments of %s: %w", orderID, err)
	}
	if out == nil {
		out = []Shipment{}
	}
	return out, nil
}

// GetShipment returns one of tenant t's shipments; under a vendor scope
// another vendor's is eventstore.ErrNotFound, like a missing one.
func GetShipment(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID, scope *uuid.UUID) (Shipment, error) {
	rows, err := q.Query(ctx, `SELECT `+shipmentCols+` FROM order_view_shipments
WHERE tenant_id = $1 AND shipment_id = $2 AND ($3::uuid IS NULL OR vendor_id = $3)`, t, id, scope)
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment %s: %w", id, err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanShipment)
	if errors.Is(err, pgx.ErrNoRows) {
		return Shipment{}, fmt.Errorf("shipment %s: %w", id, eventstore.ErrNotFound)
	}
	if err != nil {
		return Shipment{}, fmt.Errorf("shipment %s: %w", id, err)
	}
	return s, nil
}

func historyOf(ctx context.Context, q eventstore.Querier, t tenant.ID, orderID uuid.UUID) ([]Change, error) {
	rows, err := q.Query(ctx, `SELECT from_status, to_status, reason, actor, at FROM order_view_history
WHERE tenant_id = $1 AND order_id = $2 ORDER BY version`, t, orderID)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", orderID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		var c Change
		err := r.Scan(&c.From, &c.To, &c.Reason, &c.Actor, &c.At)
		c.At = c.At.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", orderID, err)
	}
	if out == nil {
		out = []Change{}
	}
	return out, nil
}

// BuyerOrder is what the buyer sees of their order.
type BuyerOrder struct {
	ID            uuid.UUID       `json:"id"`
	Number        string          `json:"order_number"`
	Status        string          `json:"status"`
	PaymentMethod string          `json:"payment_method"`
	Lines         []BuyerLine     `json:"lines"`
	Totals        order.Totals    `json:"totals"`
	Payment       *BuyerPayment   `json:"payment"`
	Shipments     []BuyerShipment `json:"shipments"`
	CreatedAt     time.Time       `json:"created_at"`
}

// BuyerLine is an ordered item.
type BuyerLine struct {
	SKU       string      `json:"sku"`
	Title     string      `json:"title"`
	Quantity  int64       `json:"quantity"`
	UnitPrice money.Money `json:"unit_price"`
	TaxRate   string      `json:"tax_rate"`
}

// BuyerPayment is the payment with, for a bank transfer, the instructions.
type BuyerPayment struct {
	Method        string          `json:"method"`
	Status        string          `json:"status"`
	Amount        money.Money     `json:"amount"`
	Received      money.Money     `json:"received"`
	BalanceDue    money.Money     `json:"balance_due"`
	ReferenceCode string          `json:"reference_code,omitempty"`
	DueAt         *time.Time      `json:"due_at"`
	BankAccount   json.RawMessage `json:"bank_account,omitempty"`
}

// BuyerShipment is a parcel's progress.
type BuyerShipment struct {
	Status      string     `json:"status"`
	Carrier     string     `json:"carrier"`
	TrackingNo  string     `json:"tracking_no"`
	ShippedAt   *time.Time `json:"shipped_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
}

// ForBuyer returns the buyer's view of an order of tenant t when token is
// its access token. A missing or wrong token is eventstore.ErrNotFound,
// exactly like an unknown order.
func ForBuyer(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID, token string) (BuyerOrder, error) {
	notFound := fmt.Errorf("order %s: %w", id, eventstore.ErrNotFound)
	if token == "" || len(token) > 256 {
		return BuyerOrder{}, notFound
	}
	d, err := getOrder(ctx, q, t, id)
	if err != nil {
		return BuyerOrder{}, err
	}
	sum := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(d.accessTokenHash)) != 1 {
		return BuyerOrder{}, notFound
	}
	return buyerView(ctx, q, t, d)
}

// ForCustomer returns the buyer's view of an order of tenant t when it is
// the customer's: placed signed in to that account, or as a guest with the
// e-mail the account verified (the order history's rule). Another
// customer's order is eventstore.ErrNotFound, exactly like an unknown one.
func ForCustomer(ctx context.Context, q eventstore.Querier, t tenant.ID, id, customer uuid.UUID) (BuyerOrder, error) {
	d, err := getOrder(ctx, q, t, id)
	if err != nil {
		return BuyerOrder{}, err
	}
	if customer == uuid.Nil || d.customerID == nil || *d.customerID != customer {
		return BuyerOrder{}, fmt.Errorf("order %s: %w", id, eventstore.ErrNotFound)
	}
	return buyerView(ctx, q, t, d)
}

// buyerView is the buyer's view of the order d, once the buyer is known.
func buyerView(ctx context.Context, q eventstore.Querier, t tenant.ID, d Detail) (BuyerOrder, error) {
	id := d.ID
	out := BuyerOrder{ID: d.ID, Number: d.Number, Status: d.Status, PaymentMethod: d.PaymentMethod, Totals: *d.Totals,
		CreatedAt: d.CreatedAt, Lines: []BuyerLine{}, Shipments: []BuyerShipment{}}
	for _, l := range d.Lines {
		if l.Quantity == 0 {
			continue // cancelled
		}
		out.Lines = append(out.Lines, BuyerLine{SKU: l.SKU, Title: l.Title, Quantity: l.Quantity, UnitPrice: l.UnitPrice, TaxRate: string(l.TaxRate)})
	}
	pays, err := paymentsOf(ctx, q, t, id)
	if err != nil {
		return BuyerOrder{}, err
	}
	if len(pays) > 0 {
		p := pays[0]
		out.Payment = &BuyerPayment{Method: p.Method, Status: p.Status, Amount: p.Amount, Received: p.Received, BalanceDue: p.BalanceDue,
			ReferenceCode: p.ReferenceCode, DueAt: p.DueAt, BankAccount: p.BankAccount}
	}
	ships, err := shipmentsOf(ctx, q, t, id, nil)
	if err != nil {
		return BuyerOrder{}, err
	}
	for _, s := range ships {
		out.Shipments = append(out.Shipments, BuyerShipment{Status: s.Status, Carrier: s.Carrier, TrackingNo: s.TrackingNo, ShippedAt: s.ShippedAt, DeliveredAt: s.DeliveredAt})
	}
	return out, nil
}

// Overdue is an order awaiting a bank transfer past its due date.
type Overdue struct {
	Tenant tenant.ID
	Order  uuid.UUID
}

// OverdueOrders lists up to limit orders, of every tenant, awaiting a bank
// transfer whose due date plus the tenant's payment grace period is not
// after now, oldest due first (through the index on payment status and due
// date).
func OverdueOrders(ctx context.Context, q eventstore.Querier, now time.Time, limit int) ([]Overdue, error) {
	const query = `SELECT p.tenant_id, p.order_id FROM order_view_payments p
JOIN order_views o ON o.tenant_id = p.tenant_id AND o.order_id = p.order_id
LEFT JOIN tenants t ON t.tenant_id = p.tenant_id
WHERE p.due_at IS NOT NULL AND p.status IN ('pending', 'partially_paid') AND p.due_at <= $1
  AND p.due_at + make_interval(hours => coalesce((t.settings->>'payment_grace_hours')::int, $3)) <= $1
  AND o.status = 'pending_payment'
ORDER BY p.due_at, p.payment_id
LIMIT $2`
	rows, err := q.Query(ctx, query, now, limit, tenant.DefaultPaymentGraceHours)
	if err != nil {
		return nil, fmt.Errorf("overdue orders: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Overdue, error) {
		var o Overdue
		err := r.Scan(&o.Tenant, &o.Order)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("overdue orders: %w", err)
	}
	return out, nil
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
