package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/commands/reconcile"
	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/ordertest"
	"github.com/honten/honten/internal/progress"
	"github.com/honten/honten/internal/zengin"
	"github.com/honten/honten/projections"
)

// StatementsOptions sizes the statement benchmark.
type StatementsOptions struct {
	// Lines is the statement's length; 0 means 10,000.
	Lines int
	// Seed makes the statement reproducible.
	Seed uint64
}

// buyerNames are the buyers of the generated orders, as they type their
// names at checkout (full-width katakana); banks print them half-width.
var buyerNames = []string{
	"ヤマダ タロウ", "スズキ ハナコ", "タナカ イチロウ", "サトウ ジロウ", "イトウ サブロウ", "ワタナベ ユミ", "ナカムラ ケンジ",
	"コバヤシ アイ", "カトウ マサル", "ヨシダ ミキ", "ヤマモト ショウ", "マツモト ユウコ", "イノウエ ダイスケ", "キムラ サクラ",
	"ハヤシ ヒロシ", "シミズ ナオ", "ヤマグチ リョウ", "モリ カオリ", "アベ タクミ", "イケダ マイ",
}

// kind of a generated line, and what the matcher should make of it.
type lineKind int

const (
	kindExact    lineKind = iota // code and name, amount due: auto
	kindWrongAmt                 // code, less or more than due: auto (partial, over)
	kindCombined                 // two codes, their sum: auto
	kindNoCode                   // name and amount of an order, no code: staff
	kindUnknown                  // a payer who is no buyer: staff
	kindWithdraw                 // a withdrawal: ignored
)

// Statements measures importing and matching a generated 入出金取引明細 of
// o.Lines lines against bank-transfer orders of one shop, beside parsing
// the same file alone, and checks that every automatic match is right and
// every ambiguous line is left to staff.
func Statements(ctx context.Context, env *Env, cfg app.Config, o StatementsOptions) ([]Row, error) {
	if o.Lines <= 0 {
		o.Lines = 10_000
	}
	m, stop, err := startServer(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	defer stop()
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	by := commands.By{Actor: "bench"}
	created, _, err := m.Commands.CreateTenant(ctx, commands.CreateTenant{By: by, Code: "bench-statements", Name: "振込ショップ", Type: "single_brand"})
	if err != nil {
		return nil, err
	}
	t := created.Tenant
	// Orders spread over many variants (one inventory stream each), as a
	// shop's orders do: a single variant would serialise every checkout.
	var variants []catalog.VariantID
	for p := 0; len(variants) < 400; p++ {
		var in []commands.VariantInput
		for k := range 50 {
			in = append(in, commands.VariantInput{SKU: fmt.Sprintf("TEA-%d-%d", p, k), Price: money.MustNew(decimal.NewFromInt(1500), money.JPY)})
		}
		if _, _, err := m.Commands.CreateProduct(ctx, commands.CreateProduct{Tenant: t, By: by, Title: fmt.Sprintf("Tea %d", p), Status: "active", Variants: in}); err != nil {
			return nil, err
		}
		for _, vi := range in {
			v, err := commands.VariantBySKU(ctx, m.Pool, t, vi.SKU)
			if err != nil {
				return nil, fmt.Errorf("variant %s: %w", vi.SKU, err)
			}
			if _, _, err := m.Commands.AdjustInventory(ctx, commands.AdjustInventory{Tenant: t, By: by, Variant: &v, Set: ptr(int64(o.Lines)), Reason: "bench"}); err != nil {
				return nil, err
			}
			variants = append(variants, v)
		}
	}

	// The kinds of the lines, then the orders they need.
	kinds := make([]lineKind, o.Lines)
	orders := 0
	for i := range kinds {
		switch r := rng.IntN(100); {
		case r < 70:
			kinds[i], orders = kindExact, orders+1
		case r < 78:
			kinds[i], orders = kindWrongAmt, orders+1
		case r < 83:
			kinds[i], orders = kindCombined, orders+2
		case r < 91:
			kinds[i], orders = kindNoCode, orders+1
		case r < 97:
			kinds[i] = kindUnknown
		default:
			kinds[i] = kindWithdraw
		}
	}
	placed, placeTime, err := placeOrders(ctx, m, t, created.Vendor.UUID, variants, orders, rng)
	if err != nil {
		return nil, err
	}
	if err := settlePolicies(ctx, m); err != nil {
		return nil, err
	}

	file, want, err := benchStatement(rng, kinds, placed)
	if err != nil {
		return nil, err
	}

	// Parse only: the baseline.
	start := time.Now()
	st, err := zengin.ReadStatement(bytes.NewReader(file))
	if err != nil {
		return nil, err
	}
	parse := time.Since(start)
	if len(st.Lines) != o.Lines {
		return nil, fmt.Errorf("parsed %d lines, want %d", len(st.Lines), o.Lines)
	}

	// Import and match, as the job behind POST /bank-statements runs it.
	jobs := m.Reconcile
	bar := progress.New("import statement", "lines", m.Log)
	prev := 0
	var mu sync.Mutex
	jobs.OnProgress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		bar.Total(int64(total))
		bar.Add(int64(done - prev))
		prev = done
	}
	id := uuid.Must(uuid.NewV7())
	start = time.Now()
	if err := jobs.Submit(ctx, t, id, reconcile.KindStatement, "bench", file, reconcile.Options{Format: reconcile.FormatZengin}); err != nil {
		return nil, err
	}
	_, sum, err := jobs.RunStatement(ctx, id)
	if err != nil {
		return nil, err
	}
	importTime := time.Since(start)
	bar.Done()

	// Check every decision against what the generator meant.
	s, err := m.Commands.LoadStatement(ctx, t, statement.ID{UUID: id})
	if err != nil {
		return nil, err
	}
	var right, wrong, missed, leftAmbiguous, ambiguous int
	for i, l := range s.Lines() {
		w := want[i]
		got := s.Allocations(l.ID)
		switch kinds[i] {
		case kindExact, kindWrongAmt, kindCombined:
			switch {
			case got == nil:
				missed++
			case sameOrders(got, w):
				right++
			default:
				wrong++
			}
		case kindNoCode, kindUnknown:
			ambiguous++
			if got == nil && s.Status(l.ID) == statement.StatusUnmatched {
				leftAmbiguous++
			} else {
				wrong++
			}
		case kindWithdraw:
			if s.Status(l.ID) != statement.StatusIgnored {
				wrong++
			}
		}
	}
	if wrong > 0 || leftAmbiguous != ambiguous {
		return nil, fmt.Errorf("statement matching: %d wrong automatic decisions, %d of %d ambiguous lines left to staff", wrong, leftAmbiguous, ambiguous)
	}
	perLine := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(o.Lines) }
	return []Row{
		{Name: "orders placed (setup)", Value: float64(len(placed)), Unit: "orders", Note: fmt.Sprintf("in %.1f s", placeTime.Seconds())},
		{Name: "parse only (zengin.ReadStatement)", Value: ms(parse), Unit: "ms", Note: fmt.Sprintf("%d lines, %.1f µs/line", o.Lines, perLine(parse))},
		{Name: "import + match + confirm", Value: ms(importTime), Unit: "ms", Baseline: "parse only", Ratio: float64(importTime) / float64(parse),
			Target: "< 10000 ms", Note: fmt.Sprintf("%.0f lines/s", float64(o.Lines)/importTime.Seconds())},
		{Name: "matched automatically", Value: float64(sum.Matched), Unit: "lines", Note: fmt.Sprintf("%d right, %d wrong, %d with a code missed", right, wrong, missed)},
		{Name: "left to staff", Value: float64(sum.Unmatched), Unit: "lines", Note: fmt.Sprintf("all %d ambiguous (no code, unknown payer)", ambiguous)},
		{Name: "ignored (withdrawals)", Value: float64(sum.Ignored), Unit: "lines"},
	}, nil
}

func ptr[T any](v T) *T { return &v }

func sameOrders(a []statement.Allocation, want []uuid.UUID) bool {
	if len(a) != len(want) {
		return false
	}
	for i := range a {
		if a[i].Order != want[i] {
			return false
		}
	}
	return true
}

// benchOrder is a placed order with what a transfer for it carries.
type benchOrder struct {
	order uuid.UUID
	name  string
	ref   string
	total int64
}

// placeOrders places n bank-transfer orders of 1 to 3 units, 16 at a time.
func placeOrders(ctx context.Context, m *app.Main, t tenant.ID, vendor uuid.UUID, variants []catalog.VariantID, n int, rng *rand.Rand) ([]benchOrder, time.Duration, error) {
	start := time.Now()
	out := make([]benchOrder, n)
	qty := make([]int64, n)
	names := make([]string, n)
	sku := make([]int, n)
	for i := range n {
		qty[i], names[i], sku[i] = 1+rng.Int64N(3), buyerNames[rng.IntN(len(buyerNames))], rng.IntN(len(variants))
	}
	bar := progress.New("place orders", "orders", m.Log)
	bar.Total(int64(n))
	work := make(chan int)
	errc := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p, err := ordertest.Place(ctx, m.Commands, ordertest.Order{Tenant: t, Method: order.PaymentBankTransfer, Name: names[i], Number: int64(i + 1),
					Lines: []ordertest.Line{{Variant: variants[sku[i]], Vendor: vendor, SKU: fmt.Sprint("TEA-", sku[i]), Quantity: qty[i], Price: 1500}}})
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					continue
				}
				out[i] = benchOrder{order: p.Order.UUID, name: names[i], ref: p.Reference, total: p.Total.Amount().IntPart()}
				bar.Add(1)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	bar.Done()
	select {
	case err := <-errc:
		return nil, 0, err
	default:
	}
	return out, time.Since(start), nil
}

// benchStatement writes the statement of the kinds against the orders
// (each paid by one line at most) and returns, per line, the orders it
// should pay.
func benchStatement(rng *rand.Rand, kinds []lineKind, orders []benchOrder) ([]byte, [][]uuid.UUID, error) {
	now := time.Now().In(zengin.JST)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zengin.JST)
	a := zengin.Account{Created: day, From: day, To: day, BankCode: "0001", BankName: "ﾐｽﾞﾎ", BranchCode: "100", BranchName: "ﾎﾝﾃﾝ",
		AccountType: zengin.Ordinary, AccountNumber: "1234567", Name: "ｶ)ﾌﾘｺﾐｼﾖﾂﾌﾟ", Passbook: "1", OpeningBalance: decimal.NewFromInt(900_000_000)}
	st := zengin.Statement{Kind: zengin.Transactions, Accounts: []zengin.Account{a}}
	want := make([][]uuid.UUID, len(kinds))
	next := 0
	take := func() benchOrder { o := orders[next]; next++; return o }
	balance := a.OpeningBalance
	for i, k := range kinds {
		l := zengin.Line{Reference: fmt.Sprintf("%08d", i+1), Date: day, ValueDate: day, Direction: zengin.Deposit, TxType: "11",
			PayerBank: "ｻﾝﾌﾟﾙｷﾞﾝｺｳ", PayerBranch: "ｴｷﾏｴ"}
		var amount int64
		switch k {
		case kindExact, kindWrongAmt:
			o := take()
			want[i] = []uuid.UUID{o.order}
			l.PayerName = payerWithCode(rng, o.ref, o.name)
			amount = o.total
			if k == kindWrongAmt {
				amount += []int64{-500, -1000, 800, 1500}[rng.IntN(4)]
			}
		case kindCombined:
			o1, o2 := take(), take()
			want[i] = []uuid.UUID{o1.order, o2.order}
			l.PayerName = zengin.Fold(o1.ref + " " + o2.ref + " " + o1.name)
			amount = o1.total + o2.total
		case kindNoCode:
			o := take()
			l.PayerName = zengin.Fold(o.name)
			amount = o.total
		case kindUnknown:
			l.PayerName = zengin.Fold([]string{"ｶ)ﾄﾘﾋｷｻｷ", "ﾐｼﾗﾇ ﾋﾄ", "ﾕ)ﾖｿﾉｼﾖｳﾃﾝ", "ｺｳｻﾞﾌﾘｶｴ"}[rng.IntN(4)])
			amount = 100 * (1 + rng.Int64N(500))
		case kindWithdraw:
			l.Direction, l.TxType, l.PayerBank, l.PayerBranch, l.Description = zengin.Withdrawal, "14", "", "", "ﾌﾘｺﾐﾃｽｳﾘﾖｳ"
			amount = 440
		}
		l.Amount = decimal.NewFromInt(amount)
		balance = balance.Add(l.Signed())
		st.Lines = append(st.Lines, l)
	}
	st.Accounts[0].ClosingBalance = balance
	var buf bytes.Buffer
	if err := zengin.WriteStatement(&buf, st); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), want, nil
}

// payerWithCode is how buyers write the code with their name: before it
// or after, with or without a space, sometimes in groups of four.
func payerWithCode(rng *rand.Rand, ref, name string) string {
	code := ref
	if rng.IntN(5) == 0 {
		code = ref[:4] + "-" + ref[4:]
	}
	switch rng.IntN(4) {
	case 0:
		return zengin.Fold(code + " " + name)
	case 1:
		return zengin.Fold(code + name)
	case 2:
		return zengin.Fold(name + " " + code)
	default:
		return zengin.Fold(code + " " + nameNoSpace(name))
	}
}

func nameNoSpace(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r != ' ' && r != '　' {
			out = append(out, r)
		}
	}
	return string(out)
}

// settlePolicies waits until the policies have handled every event of their topics
// (the orders' shipments are created) and the read models have caught up,
// so the timed phase does not pay for the setup's reactions.
func settlePolicies(ctx context.Context, m *app.Main) error {
	const behind = `SELECT count(*) FROM unnest($1::text[], $2::text[]) AS h(grp, topic)
WHERE NOT EXISTS (SELECT 1 FROM watermill_offsets_events o WHERE o.consumer_group = h.grp AND o.topic = h.topic)
   OR EXISTS (SELECT 1 FROM events ev, watermill_offsets_events o
              WHERE o.consumer_group = h.grp AND o.topic = h.topic AND ev.stream_type = h.topic
                AND (ev.tx_id, ev.global_position) > (o.last_processed_transaction_id, o.offset_acked))`
	var groups, topics []string
	for _, h := range m.Handlers() {
		for _, topic := range h.Topics {
			groups, topics = append(groups, h.Name), append(topics, topic)
		}
	}
	for {
		var n int
		if err := m.Pool.QueryRow(ctx, behind, groups, topics).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	head, err := eventstore.Head(ctx, m.Pool)
	if err != nil {
		return err
	}
	for projections.WaitFor(ctx, m.Pool, nil, head) != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
