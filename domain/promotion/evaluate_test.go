package promotion_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/catalog"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/order"
	"github.com/honten/honten/domain/promotion"
)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

type line struct {
	sku   string
	price int64
	qty   int64
	rate  catalog.TaxRate
}

// price runs the rules on lines and the order totals after them, as
// checkout does.
func price(t *testing.T, lines []line, cands []promotion.Candidate, includeTax bool) (promotion.Outcome, order.Totals) {
	t.Helper()
	ids := make([]uuid.UUID, len(lines))
	var items []promotion.Item
	for i, l := range lines {
		ids[i] = uuid.NewSHA1(uuid.Nil, []byte(l.sku))
		items = append(items, promotion.Item{Line: ids[i], SKU: l.sku, Amount: yen(l.price).Mul(l.qty)})
	}
	out := promotion.Evaluate(money.JPY, items, cands, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var priced []order.Priced
	for i, l := range lines {
		p := order.Priced{UnitPrice: yen(l.price), Quantity: l.qty, TaxRate: l.rate}
		if d, ok := out.LineDiscounts[ids[i]]; ok {
			p.Discount = d
		}
		priced = append(priced, p)
	}
	tot, err := order.ComputeTotals(money.JPY, priced, money.Money{}, money.Money{}, includeTax, money.RoundFloor)
	require.NoError(t, err)
	return out, tot
}

func cand(n byte, s promotion.Spec) promotion.Candidate {
	return promotion.Candidate{ID: uuid.UUID{15: n}, Spec: s}
}

func pct(v int64) promotion.Spec {
	return promotion.Spec{Title: "p", Kind: promotion.KindPercent, Value: decimal.NewFromInt(v)}
}

func fixed(v int64) promotion.Spec {
	return promotion.Spec{Title: "f", Kind: promotion.KindFixed, Value: decimal.NewFromInt(v)}
}

func taxOf(tot order.Totals) map[string][2]string {
	out := map[string][2]string{}
	for _, tl := range tot.Tax {
		out[string(tl.Rate)] = [2]string{tl.Taxable.AmountString(), tl.Tax.AmountString()}
	}
	return out
}

// TestWorkedExamples are priced by hand (prices tax-inclusive unless said,
// tax floored once per rate per order after the discount).
func TestWorkedExamples(t *testing.T) {
	t.Parallel()
	rice := line{"RICE", 1080, 2, catalog.TaxReduced}
	towel := line{"TOWEL", 3300, 1, catalog.TaxStandard}

	t.Run("10 % off mixed 8 % and 10 % lines", func(t *testing.T) {
		t.Parallel()
		// 2,160 + 3,300 = 5,460; 10 % = 546, shared 216 / 330 (exact).
		// 8 %: 1,944 × 8/108 = 144; 10 %: 2,970 × 10/110 = 270.
		out, tot := price(t, []line{rice, towel}, []promotion.Candidate{cand(1, pct(10))}, true)
		require.Equal(t, "546", out.Discount.AmountString())
		require.Equal(t, "546", tot.Discount.AmountString())
		require.Equal(t, "5460", tot.Subtotal.AmountString())
		require.Equal(t, "4914", tot.Total.AmountString())
		require.Equal(t, map[string][2]string{"8": {"1944", "144"}, "10": {"2970", "270"}}, taxOf(tot))
	})
	t.Run("1,000 yen off two lines: largest remainder", func(t *testing.T) {
		t.Parallel()
		// 1,000 over 1,000 (8 %) and 2,000 (10 %): 333.33 / 666.67 → 333 / 667.
		// 8 %: 667 × 8/108 = 49.4 → 49; 10 %: 1,333 × 10/110 = 121.2 → 121.
		out, tot := price(t, []line{{"A", 1000, 1, catalog.TaxReduced}, {"B", 2000, 1, catalog.TaxStandard}},
			[]promotion.Candidate{cand(1, fixed(1000))}, true)
		require.Equal(t, "333", out.LineDiscounts[uuid.NewSHA1(uuid.Nil, []byte("A"))].AmountString())
		require.Equal(t, "667", out.LineDiscounts[uuid.NewSHA1(uuid.Nil, []byte("B"))].AmountString())
		require.Equal(t, "2000", tot.Total.AmountString())
		require.Equal(t, map[string][2]string{"8": {"667", "49"}, "10": {"1333", "121"}}, taxOf(tot))
	})
	t.Run("fixed above the matching lines takes them to zero only", func(t *testing.T) {
		t.Parallel()
		s := fixed(5000)
		s.AppliesTo.SKUs = []string{"RICE"}
		out, tot := price(t, []line{rice, towel}, []promotion.Candidate{cand(1, s)}, true)
		require.Equal(t, "2160", out.Discount.AmountString())
		require.Equal(t, "3300", tot.Total.AmountString())
		require.Equal(t, map[string][2]string{"8": {"0", "0"}, "10": {"3300", "300"}}, taxOf(tot))
	})
	t.Run("prices excluding tax: tax added after the discount", func(t *testing.T) {
		t.Parallel()
		// 3,000 − 10 % = 2,700; 8 % of 2,700 = 216; total 2,916.
		_, tot := price(t, []line{{"MISO", 1000, 3, catalog.TaxReduced}}, []promotion.Candidate{cand(1, pct(10))}, false)
		require.Equal(t, "2916", tot.Total.AmountString())
		require.Equal(t, map[string][2]string{"8": {"2700", "216"}}, taxOf(tot))
	})
	t.Run("an exclusive promotion of highest priority applies alone", func(t *testing.T) {
		t.Parallel()
		ex := pct(20)
		ex.Priority = 10
		comb := fixed(500)
		comb.Combinable, comb.Priority = true, 5
		out, tot := price(t, []line{rice, towel}, []promotion.Candidate{cand(2, comb), cand(1, ex)}, true)
		require.Len(t, out.Applied, 1)
		require.Equal(t, uuid.UUID{15: 1}, out.Applied[0].Promotion)
		require.Equal(t, "1092", tot.Discount.AmountString()) // 20 % of 5,460
		require.Equal(t, []promotion.Rejected{{Promotion: uuid.UUID{15: 2}, Reason: promotion.ReasonNotCombinable}}, out.Rejected)
	})
	t.Run("combinable ones stack by priority; a lower exclusive one is left out", func(t *testing.T) {
		t.Parallel()
		ex := pct(50)
		ex.Priority = 1
		first := fixed(460)
		first.Combinable, first.Priority = true, 9
		second := pct(10)
		second.Combinable, second.Priority = true, 5
		out, tot := price(t, []line{rice, towel}, []promotion.Candidate{cand(1, ex), cand(2, second), cand(3, first)}, true)
		// 5,460 − 460 = 5,000; then 10 % of 5,000 = 500.
		require.Len(t, out.Applied, 2)
		require.Equal(t, "460", out.Applied[0].Discount.AmountString())
		require.Equal(t, "500", out.Applied[1].Discount.AmountString())
		require.Equal(t, "4500", tot.Total.AmountString())
		require.Equal(t, []promotion.Rejected{{Promotion: uuid.UUID{15: 1}, Reason: promotion.ReasonNotCombinable}}, out.Rejected)
		// Line discounts add up to the order's discount.
		sum := decimal.Zero
		for _, d := range out.LineDiscounts {
			sum = sum.Add(d.Amount())
		}
		require.Equal(t, "960", sum.String())
	})
	t.Run("minimum subtotal, period and matching lines", func(t *testing.T) {
		t.Parallel()
		min := pct(10)
		m := yen(10000)
		min.MinSubtotal = &m
		later := pct(10)
		start := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		later.StartsAt = &start
		over := pct(10)
		end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		over.EndsAt = &end
		other := pct(10)
		other.AppliesTo.SKUs = []string{"NOPE"}
		out, tot := price(t, []line{rice, towel}, []promotion.Candidate{cand(1, min), cand(2, later), cand(3, over), cand(4, other)}, true)
		require.Empty(t, out.Applied)
		require.Equal(t, "0", tot.Discount.AmountString())
		reasons := map[byte]string{}
		for _, r := range out.Rejected {
			reasons[r.Promotion[15]] = r.Reason
		}
		require.Equal(t, map[byte]string{1: promotion.ReasonMinSubtotal, 2: promotion.ReasonNotStarted, 3: promotion.ReasonExpired, 4: promotion.ReasonNoMatch}, reasons)
	})
}

func TestGeneratedCodesAreStableAndDistinct(t *testing.T) {
	t.Parallel()
	seed := []byte("0123456789abcdef")
	seen := map[string]bool{}
	for i := range 20000 {
		c := promotion.GenerateCode(seed, "XMAS-", i)
		require.Len(t, c, len("XMAS-")+promotion.CodeLength)
		require.False(t, seen[c])
		seen[c] = true
	}
	require.Equal(t, promotion.GenerateCode(seed, "A", 7), promotion.GenerateCode(seed, "A", 7))
}

func TestSpecValidation(t *testing.T) {
	t.Parallel()
	_, err := promotion.Spec{Kind: "half", Value: decimal.NewFromInt(0)}.Validate(money.JPY)
	require.ErrorContains(t, err, "title")
	require.ErrorContains(t, err, "kind")
	s, err := promotion.Spec{Title: " 冬 ", Kind: promotion.KindPercent, Value: decimal.NewFromInt(15), Codes: []string{"winter10", "WINTER10"}}.Validate(money.JPY)
	require.NoError(t, err)
	require.Equal(t, []string{"WINTER10"}, s.Codes)
	require.True(t, s.Coupon)
	_, err = promotion.Spec{Title: "x", Kind: promotion.KindFixed, Value: decimal.RequireFromString("10.5")}.Validate(money.JPY)
	require.ErrorContains(t, err, "value")
}
