package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reservations"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/domain/vendor"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
)

// The demo mall.
const (
	MallCode       = "honten-mall-demo"
	MallName       = "本店デモモール"
	MallOwnerEmail = "owner@mall.demo.honten.example"
	// MallClientCode is the demo mall's 委託者コード for its transfer files.
	MallClientCode = "1234567890"
)

// mallVendor is a vendor of the demo mall with its catalog.
type mallVendor struct {
	key  string
	name string
	// rate is the commission from the start; newRate, when set, a step of
	// its history from newRateFrom before the load.
	rate, newRate string
	newRateFrom   time.Duration
	account       tenant.BankAccount
	staffEmail    string
	staffName     string
	products      []mallProduct
}

type mallProduct struct {
	handle, title, sku string
	price              int64
	taxRate            string
	stock              int64
}

var mallVendors = []mallVendor{
	{key: "uji", name: "宇治 山本園", rate: "0.10", newRate: "0.12", newRateFrom: 14 * day,
		account:    tenant.BankAccount{BankName: "京都銀行", BankCode: "0158", BranchName: "宇治支店", BranchCode: "301", AccountType: "ordinary", AccountNumber: "7654321", AccountHolder: "ｶ)ﾔﾏﾓﾄｴﾝ"},
		staffEmail: "uji@mall.demo.honten.example", staffName: "山本 修",
		products: []mallProduct{
			{"uji-matcha-miyabi", "宇治抹茶「雅」30g缶", "UJI-MATCHA-30", 3240, "8", 40},
			{"uji-gyokuro-sui", "玉露「翠」100g", "UJI-GYOKURO-100", 2160, "8", 40},
			{"uji-hojicha-teabag", "宇治ほうじ茶 ティーバッグ20袋", "UJI-HOJICHA-20", 864, "8", 60},
		}},
	{key: "sakura", name: "金沢 菓子処 桜月堂", rate: "0.08",
		account:    tenant.BankAccount{BankName: "三菱UFJ銀行", BankCode: "0005", BranchName: "金沢支店", BranchCode: "461", AccountType: "ordinary", AccountNumber: "2345678", AccountHolder: "ｶ)ｵｳｹﾞﾂﾄﾞｳ"},
		staffEmail: "sakura@mall.demo.honten.example", staffName: "桜井 千尋",
		products: []mallProduct{
			{"sakura-kurikinton-6", "栗きんとん 6個入", "SAKURA-KURI-6", 1944, "8", 30},
			{"sakura-monaka-10", "加賀最中 10個入", "SAKURA-MONAKA-10", 2376, "8", 30},
			{"sakura-higashi", "干菓子 季節の詰め合わせ", "SAKURA-HIGASHI", 1620, "8", 30},
		}},
	{key: "mashiko", name: "益子 陶房 土屋", rate: "0.15",
		account:    tenant.BankAccount{BankName: "足利銀行", BankCode: "0129", BranchName: "益子支店", BranchCode: "158", AccountType: "ordinary", AccountNumber: "3456789", AccountHolder: "ﾂﾁﾔ ｹﾝｼﾞ"},
		staffEmail: "mashiko@mall.demo.honten.example", staffName: "土屋 健二",
		products: []mallProduct{
			{"mashiko-mug-ame", "益子焼 マグカップ 飴釉", "MASHIKO-MUG", 3300, "10", 25},
			{"mashiko-rice-bowl", "益子焼 飯碗 糠白釉", "MASHIKO-BOWL", 2750, "10", 25},
			{"mashiko-vase", "益子焼 花器 灰釉", "MASHIKO-VASE", 8800, "10", 10},
		}},
}

const day = 24 * time.Hour

// The three ways a bank transfer arrives in the demo.
const (
	payFull = iota + 1
	payHalf
	payOver // 1,000 yen too much: a refund is due
)

// mallOrder is one order of the demo mall and its story: when it was
// placed, paid, shipped (by which vendors) and delivered, as durations
// before the load.
type mallOrder struct {
	placed  time.Duration
	method  order.PaymentMethod
	items   []item
	pay     int
	paid    time.Duration
	ship    []string // vendor keys; nil: none
	shipped time.Duration
	// delivered, when set, delivers every shipped parcel (and collects
	// the cash of a COD order).
	delivered time.Duration
	cancelled time.Duration
}

// allVendors ships every vendor's parcel of an order.
var allVendors = []string{"uji", "sakura", "mashiko"}

var mallOrders = []mallOrder{
	// Delivered long ago: past the 8-day return window, the vendors' money is payable.
	{placed: 19 * day, method: order.PaymentBankTransfer, items: []item{{"UJI-MATCHA-30", 1}, {"SAKURA-MONAKA-10", 1}, {"MASHIKO-MUG", 1}},
		pay: payFull, paid: 18 * day, ship: allVendors, shipped: 17 * day, delivered: 15 * day},
	{placed: 17 * day, method: order.PaymentCOD, items: []item{{"UJI-GYOKURO-100", 2}, {"SAKURA-KURI-6", 1}},
		ship: allVendors, shipped: 16 * day, delivered: 14 * day},
	// Placed after 宇治 山本園's commission rose to 12 %: its lines froze the new rate.
	{placed: 12 * day, method: order.PaymentBankTransfer, items: []item{{"UJI-MATCHA-30", 2}, {"MASHIKO-BOWL", 2}},
		pay: payFull, paid: 11 * day, ship: allVendors, shipped: 10 * day, delivered: 9 * day},
	// Delivered three days ago: held until the return window ends.
	{placed: 6 * day, method: order.PaymentBankTransfer, items: []item{{"SAKURA-KURI-6", 2}, {"MASHIKO-VASE", 1}},
		pay: payFull, paid: 6*day - 3*time.Hour, ship: allVendors, shipped: 5 * day, delivered: 3 * day},
	// Cash on delivery, on its way.
	{placed: 5 * day, method: order.PaymentCOD, items: []item{{"MASHIKO-MUG", 2}, {"UJI-HOJICHA-20", 3}},
		ship: allVendors, shipped: 4 * day},
	// One vendor has shipped: partially shipped.
	{placed: 4 * day, method: order.PaymentBankTransfer, items: []item{{"UJI-GYOKURO-100", 1}, {"SAKURA-MONAKA-10", 2}},
		pay: payFull, paid: 3 * day, ship: []string{"uji"}, shipped: 2 * day},
	// Paid 1,000 yen too much: paid, with a refund due.
	{placed: 3 * day, method: order.PaymentBankTransfer, items: []item{{"UJI-MATCHA-30", 1}, {"SAKURA-HIGASHI", 1}},
		pay: payOver, paid: 2 * day},
	// Cancelled by the buyer before paying.
	{placed: 2 * day, method: order.PaymentBankTransfer, items: []item{{"MASHIKO-BOWL", 1}, {"SAKURA-KURI-6", 1}},
		cancelled: 2*day - 2*time.Hour},
	// Half paid: still waiting for the rest.
	{placed: 2*day - 5*time.Hour, method: order.PaymentBankTransfer, items: []item{{"MASHIKO-VASE", 1}, {"UJI-GYOKURO-100", 1}},
		pay: payHalf, paid: 1 * day},
	// Paid, waiting to ship.
	{placed: 1 * day, method: order.PaymentBankTransfer, items: []item{{"UJI-HOJICHA-20", 2}, {"MASHIKO-MUG", 1}},
		pay: payFull, paid: 20 * time.Hour},
	// Waiting for the transfer.
	{placed: 6 * time.Hour, method: order.PaymentBankTransfer, items: []item{{"SAKURA-MONAKA-10", 1}, {"MASHIKO-BOWL", 1}}},
}

var mallBuyers = []string{"伊藤 由紀", "渡辺 大輔", "小林 さくら", "加藤 誠", "吉田 葵", "山口 翔"}

// Login is a staff account's sign-in, shown once.
type Login struct {
	Email    string
	Password string
	Role     string
	// Vendor names the vendor of a vendor-staff account.
	Vendor string
}

// LoadedMall describes the loaded demo mall.
type LoadedMall struct {
	Tenant tenant.ID
	Code   string
	// Staff are the owner's sign-in, then one vendor-staff sign-in per
	// vendor; the passwords are random, shown once.
	Staff    []Login
	Vendors  int
	Products int
	Orders   int
	// Run is the payout run, of which the first vendor's payout is recorded.
	Run payout.RunID
}

// LoadMall creates the demo mall: a mall tenant with three vendors (each
// with its commission history, payout account, products with stock and a
// vendor-staff account), the mall's bank account and 委託者コード, orders in
// every state and one payout run with one payout recorded — so the payout
// ledger, the vendor statements and the run's Zengin file have content.
//
// The history spans the three weeks before the load: the loader issues its
// commands through a Service on cmds' store whose clock it sets to each
// step's moment, so a parcel delivered fifteen days ago is past its return
// window when, at cmds' clock, the funds are released (the sweeper's
// ReleaseFunds command) and the payout run is made. The reservation holds
// of the backdated carts have run out at that clock, so load the mall
// before workers serve the database (serve --demo does). The run is made
// from the ledger read model, which runner brings up to date first
// (Runner.CatchUp: applied here before Run starts, awaited otherwise).
//
// It returns ErrAlreadyLoaded when the mall's shop code is taken.
func LoadMall(ctx context.Context, cmds *commands.Service, runner *projections.Runner, log *slog.Logger) (LoadedMall, error) {
	if _, taken, err := eventstore.Owner(ctx, cmds.Store().Pool(), eventstore.PlatformScope, commands.ClaimTenantCode, MallCode); err != nil {
		return LoadedMall{}, err
	} else if taken {
		return LoadedMall{}, ErrAlreadyLoaded
	}
	end := cmds.Now()
	at := end.Add(-21 * day)
	past := commands.New(cmds.Store(), func() time.Time { return at })
	ago := func(d time.Duration) { at = end.Add(-d) }

	created, _, err := past.CreateTenant(ctx, commands.CreateTenant{By: by("mall:tenant"), Code: MallCode, Name: MallName, Type: "mall"})
	if errors.Is(err, commands.ErrTenantCodeTaken) || errors.Is(err, eventstore.ErrVersionConflict) || errors.Is(err, eventstore.ErrDuplicate) {
		return LoadedMall{}, ErrAlreadyLoaded
	}
	if err != nil {
		return LoadedMall{}, fmt.Errorf("demo mall tenant: %w", err)
	}
	t := created.Tenant
	out := LoadedMall{Tenant: t, Code: MallCode}
	owner := Login{Email: MallOwnerEmail, Password: commands.NewPassword(), Role: "owner"}
	out.Staff = append(out.Staff, owner)
	invites := []commands.InviteStaff{{Tenant: t, By: by("mall:owner"), ByRole: "owner",
		Email: owner.Email, Name: "中村 由美", Role: "owner", Password: owner.Password}}
	if _, err := past.UpdateSettings(ctx, commands.UpdateSettings{Tenant: t, By: by("mall:settings"), Change: func(s tenant.Settings) (tenant.Settings, error) {
		s.BankAccount = &tenant.BankAccount{BankName: "みずほ銀行", BankCode: "0001", BranchName: "本店", BranchCode: "100",
			AccountType: "ordinary", AccountNumber: "7777777", AccountHolder: "ｶ)ﾎﾝﾃﾝﾓ-ﾙ"}
		s.TransferClientCode = MallClientCode
		s.OrderNumberPrefix = "HM"
		return s, nil
	}}); err != nil {
		return out, fmt.Errorf("demo mall settings: %w", err)
	}

	vendors := map[string]vendor.ID{}
	for _, mv := range mallVendors {
		name := func(step string) commands.By { return by("mall:vendor:" + mv.key + ":" + step) }
		vid, _, err := past.CreateVendor(ctx, commands.CreateVendor{Tenant: t, By: name("create"), Name: mv.name, CommissionRate: decimal.RequireFromString(mv.rate)})
		if err != nil {
			return out, fmt.Errorf("demo vendor %s: %w", mv.key, err)
		}
		vendors[mv.key] = vid
		if _, err := past.SetPayoutAccount(ctx, commands.SetPayoutAccount{Tenant: t, By: name("account"), Vendor: vid, Account: mv.account}); err != nil {
			return out, fmt.Errorf("demo vendor %s account: %w", mv.key, err)
		}
		login := Login{Email: mv.staffEmail, Password: commands.NewPassword(), Role: "vendor", Vendor: mv.name}
		out.Staff = append(out.Staff, login)
		invites = append(invites, commands.InviteStaff{Tenant: t, By: name("staff"), ByRole: "owner",
			Email: login.Email, Name: mv.staffName, Role: "vendor", Vendor: &vid, Password: login.Password})
		for i, p := range mv.products {
			cmd := commands.CreateProduct{Tenant: t, By: name(fmt.Sprintf("product:%d", i)), Vendor: &vid.UUID, Title: p.title, Handle: p.handle,
				Status: "active", Variants: []commands.VariantInput{{SKU: p.sku, Price: yen(p.price), TaxRate: p.taxRate}}}
			if _, _, err := past.CreateProduct(ctx, cmd); err != nil {
				return out, fmt.Errorf("demo mall product %s: %w", p.handle, err)
			}
			if _, err := past.SetStock(ctx, commands.SetStock{Tenant: t, By: name(fmt.Sprintf("stock:%d", i)), Reason: "demo stock",
				Product: catalog.ProductID{UUID: cmd.By.DerivedID(0)},
				Levels:  []commands.StockSet{{Variant: catalog.VariantID{UUID: cmd.By.DerivedID(100)}, Location: created.Location, OnHand: p.stock}}}); err != nil {
				return out, fmt.Errorf("demo mall stock %s: %w", p.handle, err)
			}
			out.Products++
		}
		out.Vendors++
	}
	// The staff accounts, at the opening, while the orders are placed:
	// hashing their passwords is most of what they cost.
	opened := at
	staffDone := make(chan error, 1)
	go func() {
		staffDone <- inviteAll(ctx, commands.New(cmds.Store(), func() time.Time { return opened }), invites)
	}()
	// A commission change decided the day after opening, dated ahead.
	ago(20 * day)
	for _, mv := range mallVendors {
		if mv.newRate == "" {
			continue
		}
		rate, from := decimal.RequireFromString(mv.newRate), end.Add(-mv.newRateFrom)
		if _, err := past.UpdateVendor(ctx, commands.UpdateVendor{Tenant: t, By: by("mall:vendor:" + mv.key + ":rate"), Vendor: vendors[mv.key],
			CommissionRate: &rate, EffectiveFrom: &from}); err != nil {
			return out, fmt.Errorf("demo vendor %s rate: %w", mv.key, err)
		}
	}

	var delivered []shipment.ID
	out.Orders, delivered, err = placeMallOrders(ctx, past, ago, t, vendors)
	if serr := <-staffDone; err == nil {
		err = serr
	}
	if err != nil {
		return out, err
	}
	// Now: release what the return window no longer holds, as the sweeper
	// does, then pay from the ledger.
	for _, sid := range delivered {
		if _, err := cmds.ReleaseFunds(ctx, commands.ReleaseFunds{Tenant: t, By: by("mall:release:" + sid.String()), Shipment: sid}); err != nil {
			return out, fmt.Errorf("demo funds release: %w", err)
		}
	}
	if err := runner.CatchUp(ctx, projections.Model(ledger.Name)); err != nil {
		return out, fmt.Errorf("demo mall ledger: %w", err)
	}
	pool := cmds.Store().Pool()
	periodEnd := cmds.Now()
	candidates, err := ledger.RunCandidates(ctx, pool, t, periodEnd, money.JPY)
	if err != nil {
		return out, err
	}
	runBy := by("mall:payout-run")
	if out.Run, _, err = cmds.CreatePayoutRun(ctx, commands.CreatePayoutRun{Tenant: t, By: runBy, PeriodEnd: periodEnd,
		MinAmount: yen(1000), Candidates: candidates}); err != nil {
		return out, fmt.Errorf("demo payout run: %w", err)
	}
	first := vendors[mallVendors[0].key]
	for _, c := range candidates {
		if c.Vendor != first.UUID {
			continue
		}
		released, err := ledger.Released(ctx, pool, t, first.UUID, money.JPY)
		if err != nil {
			return out, err
		}
		if _, err := cmds.RecordPayout(ctx, commands.RecordPayout{Tenant: t, By: by("mall:payout"), Vendor: first, Amount: c.Amount,
			PaidAt: cmds.Now(), Reference: "DEMO-FB-0001", Run: &out.Run, Released: released}); err != nil {
			return out, fmt.Errorf("demo payout: %w", err)
		}
	}
	if log != nil {
		log.Info("demo mall loaded", "shop", MallCode, "vendors", out.Vendors, "products", out.Products, "orders", out.Orders)
	}
	return out, nil
}

// inviteAll creates the staff accounts of invites at once.
func inviteAll(ctx context.Context, cmds *commands.Service, invites []commands.InviteStaff) error {
	var wg sync.WaitGroup
	errs := make([]error, len(invites))
	for i, c := range invites {
		wg.Go(func() {
			if _, _, err := cmds.InviteStaff(ctx, c); err != nil {
				errs[i] = fmt.Errorf("demo mall staff %s: %w", c.Email, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// placeMallOrders places the demo mall's orders, each at its moment (ago
// sets the clock of cmds), takes them through their stories and returns
// how many it placed and the shipments it delivered.
func placeMallOrders(ctx context.Context, cmds *commands.Service, ago func(time.Duration), t tenant.ID, vendors map[string]vendor.ID) (int, []shipment.ID, error) {
	var delivered []shipment.ID
	w := cmds.NewReservationWorker(reservations.Options{})
	for i, d := range mallOrders {
		name := func(step string) commands.By { return by(fmt.Sprintf("mall:order:%d:%s", i, step)) }
		ago(d.placed)
		p, err := checkoutCart(ctx, cmds, w, t, name, d.items, commands.Checkout{
			Email: fmt.Sprintf("buyer%d@mall.demo.honten.example", i+1), Name: mallBuyers[i%len(mallBuyers)], Phone: "080-2345-6789",
			Address:       order.Address{PostalCode: "6110021", Prefecture: "京都府", City: "宇治市", Line1: "宇治妙楽1"},
			PaymentMethod: string(d.method)})
		if err != nil {
			return i, delivered, err
		}
		sh, err := advanceMallOrder(ctx, cmds, ago, t, p, d, vendors, name)
		if err != nil {
			return i, delivered, fmt.Errorf("demo mall order %s: %w", p.Number, err)
		}
		delivered = append(delivered, sh...)
	}
	return len(mallOrders), delivered, nil
}

// advanceMallOrder takes a mall order through its story with the
// backoffice's commands, setting the clock (ago) to each step's moment,
// and returns the shipments it delivered.
func advanceMallOrder(ctx context.Context, cmds *commands.Service, ago func(time.Duration), t tenant.ID, p commands.Placed, d mallOrder,
	vendors map[string]vendor.ID, name func(string) commands.By) ([]shipment.ID, error) {
	advance := func(step string) error {
		_, err := cmds.AdvanceOrder(ctx, commands.AdvanceOrder{Tenant: t, By: name(step), Order: p.Order})
		return err
	}
	if d.cancelled > 0 {
		ago(d.cancelled)
		_, err := cmds.CancelOrder(ctx, commands.CancelOrder{Tenant: t, By: name("cancel"), Order: p.Order, Reason: "お客様のご都合"})
		return nil, err
	}
	if d.pay > 0 {
		ago(d.paid)
		amount := p.Totals.Total
		switch d.pay {
		case payHalf:
			amount = yen(p.Totals.Total.Amount().IntPart() / 2)
		case payOver:
			amount = yen(p.Totals.Total.Amount().IntPart() + 1000)
		}
		if _, err := cmds.ConfirmPayment(ctx, commands.ConfirmPayment{Tenant: t, By: name("pay"), Order: p.Order, Amount: amount, Reference: "DEMO-" + p.Number}); err != nil {
			return nil, err
		}
	}
	if err := advance("paid"); err != nil {
		return nil, err
	}
	if d.ship == nil {
		return nil, nil
	}
	ago(d.shipped)
	var sids []shipment.ID
	for _, key := range d.ship {
		sid := shipment.IDFor(p.Order.UUID, vendors[key].UUID)
		if !hasVendor(p, vendors[key].UUID) {
			continue
		}
		if _, err := cmds.ShipShipment(ctx, commands.ShipShipment{Tenant: t, By: name("ship:" + key), Shipment: sid,
			Carrier: "ヤマト運輸", TrackingNo: fmt.Sprintf("4420-%s-%s", p.Number[len(p.Number)-4:], key)}); err != nil {
			return nil, err
		}
		sids = append(sids, sid)
	}
	if err := advance("shipped"); err != nil {
		return nil, err
	}
	if d.delivered == 0 {
		return nil, nil
	}
	ago(d.delivered)
	for _, sid := range sids {
		if _, err := cmds.DeliverShipment(ctx, commands.DeliverShipment{Tenant: t, By: name("deliver:" + sid.String()), Shipment: sid}); err != nil {
			return nil, err
		}
		if d.method != order.PaymentCOD {
			continue
		}
		// The first parcel carries the order's cash.
		_, err := cmds.CollectCOD(ctx, commands.CollectCOD{Tenant: t, By: name("collect:" + sid.String()), Shipment: sid, Amount: p.Totals.Total})
		if err != nil && !errors.Is(err, commands.ErrNothingToCollect) {
			return nil, err
		}
	}
	return sids, advance("delivered")
}

// hasVendor reports whether order p has a line of vendor v.
func hasVendor(p commands.Placed, v uuid.UUID) bool {
	for _, l := range p.Lines {
		if l.Vendor == v {
			return true
		}
	}
	return false
}
