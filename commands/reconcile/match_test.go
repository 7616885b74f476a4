package reconcile

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/checkout"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

var placed = time.Date(2025, 12, 1, 3, 0, 0, 0, time.UTC) // 12:00 JST

func cand(n int64, name string, balance int64) Candidate {
	due := placed.AddDate(0, 0, 7)
	return Candidate{Order: uuid.New(), Payment: uuid.New(), Number: "HT-" + checkout.ReferenceCode(n), Name: name, Status: "pending_payment",
		PaymentStatus: "pending", Balance: yen(balance), ReferenceCode: checkout.ReferenceCode(n), PlacedAt: placed, DueAt: &due}
}

func line(payer string, amount int64, day time.Time) statement.Line {
	return statement.Line{Date: day, Deposit: true, Amount: yen(amount), PayerName: payer}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	next := time.Date(2025, 12, 1, 15, 0, 0, 0, time.UTC) // 12-02 00:00 JST
	a, b, c := cand(12, "ヤマダ タロウ", 3000), cand(13, "スズキ ハナコ", 2000), cand(14, "スズキ ハナコ", 1500)
	paid := cand(15, "タナカ", 1000)
	paid.PaymentStatus, paid.Balance = "paid", yen(0)
	m := NewMatcher([]Candidate{a, b, c, paid})
	codeA := a.ReferenceCode

	for name, tc := range map[string]struct {
		line   statement.Line
		orders []uuid.UUID
		reason string
	}{
		"code before the name":    {line(codeA+" ﾔﾏﾀﾞ ﾀﾛｳ", 3000, next), []uuid.UUID{a.Order}, ""},
		"code after, no space":    {line("ﾔﾏﾀﾞﾀﾛｳ"+codeA, 3000, next), []uuid.UUID{a.Order}, ""},
		"code in groups":          {line(codeA[:4]+"-"+codeA[4:]+" ﾔﾏﾀﾞ", 3000, next), []uuid.UUID{a.Order}, ""},
		"full-width code":         {line(wide(codeA)+" ヤマダ", 3000, next), []uuid.UUID{a.Order}, ""},
		"partial payment":         {line(codeA+" ﾔﾏﾀﾞ", 1000, next), []uuid.UUID{a.Order}, ""},
		"overpayment":             {line(codeA+" ﾔﾏﾀﾞ", 5000, next), []uuid.UUID{a.Order}, ""},
		"combined":                {line(b.ReferenceCode+" "+c.ReferenceCode+" ｽｽﾞｷ", 3500, next), []uuid.UUID{b.Order, c.Order}, ""},
		"combined, wrong sum":     {line(b.ReferenceCode+" "+c.ReferenceCode+" ｽｽﾞｷ", 3000, next), nil, ReasonAmbiguousRefs},
		"no code":                 {line("ﾔﾏﾀﾞ ﾀﾛｳ", 3000, next), nil, ReasonNoReference},
		"a typo fails the check":  {line(codeA[:7]+string('0'+(codeA[7]-'0'+1)%10)+" ﾔﾏﾀﾞ", 3000, next), nil, ReasonNoReference},
		"before the order":        {line(codeA+" ﾔﾏﾀﾞ", 3000, placed.Add(-24*time.Hour)), nil, ReasonBeforeOrder},
		"order already paid":      {line(paid.ReferenceCode+" ﾀﾅｶ", 1000, next), nil, ReasonAlreadyPaid},
		"same day as the order":   {line(codeA+" ﾔﾏﾀﾞ", 3000, time.Date(2025, 11, 30, 15, 0, 0, 0, time.UTC)), []uuid.UUID{a.Order}, ""},
		"late: still the order's": {line(codeA+" ﾔﾏﾀﾞ", 3000, placed.AddDate(0, 1, 0)), []uuid.UUID{a.Order}, ""},
	} {
		v := m.Decide(tc.line)
		require.Equal(t, tc.reason, v.Reason, name)
		var got []uuid.UUID
		for _, al := range v.Allocations {
			got = append(got, al.Order)
		}
		require.Equal(t, tc.orders, got, name)
	}
	v := m.Decide(line(b.ReferenceCode+" "+c.ReferenceCode, 3500, next))
	require.True(t, v.Allocations[0].Amount.Equal(yen(2000)))
	require.True(t, v.Allocations[1].Amount.Equal(yen(1500)))
	v = m.Decide(line(codeA, 1000, next))
	require.True(t, v.Allocations[0].Amount.Equal(yen(1000)), "the whole line goes to the order")
}

func TestSuggestRanksNameAmountAndDate(t *testing.T) {
	t.Parallel()
	next := time.Date(2025, 12, 1, 15, 0, 0, 0, time.UTC)
	same := cand(20, "ヤマダ タロウ", 3000)
	nameOnly := cand(21, "ヤマダ タロウ", 4000)
	amountOnly := cand(22, "スズキ ハナコ", 3000)
	late := cand(23, "スズキ ハナコ", 3000)
	late.PlacedAt = next.AddDate(0, 0, 1)
	other := cand(24, "ワタナベ", 999)
	paid := cand(25, "ヤマダ タロウ", 3000)
	paid.PaymentStatus = "paid"
	m := NewMatcher([]Candidate{other, late, amountOnly, nameOnly, same, paid})
	got := m.Suggest(line("ﾔﾏﾀﾞ ﾀﾛｳ", 3000, next), 72*time.Hour)
	var order []uuid.UUID
	for _, s := range got {
		order = append(order, s.Order)
	}
	require.Equal(t, []uuid.UUID{same.Order, nameOnly.Order, amountOnly.Order, late.Order}, order)
	require.Equal(t, 3.5, got[0].Score)
	require.Equal(t, 1.0, got[0].NameSimilarity)
	require.True(t, got[0].AmountEqual && got[0].InWindow)
	require.False(t, got[3].InWindow, "placed after the transfer")
	require.Empty(t, m.Suggest(line("ｶ)ﾄﾘﾋｷｻｷ", 1, next), 0))
}

// wide writes digits full-width, as a CSV export may.
func wide(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = append(out, r-'0'+'０')
	}
	return string(out)
}
