package payout_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/payout"
	"github.com/honten/honten/domain/tenant"
)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func TestPayNeverExceedsWhatWasReleased(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	vendor := uuid.New()
	p := payout.FromHistory(nil)
	pay := func(amount int64, ref string) error {
		return p.Pay(payout.Payout{ID: payout.ID{UUID: uuid.New()}, Vendor: vendor, Amount: yen(amount), PaidAt: now, Reference: ref}, yen(10000), now)
	}
	require.NoError(t, pay(6000, "FB-1"))
	require.ErrorIs(t, pay(4001, "FB-2"), payout.ErrExceedsPayable)
	require.ErrorIs(t, pay(1, "FB-1"), payout.ErrReferenceUsed)
	require.NoError(t, pay(4000, "FB-2"))
	require.Equal(t, "10000", p.Paid(money.JPY).AmountString())
	require.Len(t, p.Pending(), 2)

	// The history gives the same decisions.
	again := payout.FromHistory(p.Pending())
	require.Equal(t, int64(2), again.Version())
	require.ErrorIs(t, again.Pay(payout.Payout{Vendor: vendor, Amount: yen(1), PaidAt: now, Reference: "FB-3"}, yen(10000), now), payout.ErrExceedsPayable)
}

func TestPayValidates(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	run := uuid.New()
	cases := map[string]struct {
		x     payout.Payout
		field string
	}{
		"no reference":    {payout.Payout{Amount: yen(1), PaidAt: now}, "reference"},
		"zero":            {payout.Payout{Amount: yen(0), PaidAt: now, Reference: "x"}, "amount"},
		"other currency":  {payout.Payout{Amount: money.MustNew(decimal.NewFromInt(1), money.USD), PaidAt: now, Reference: "x"}, "amount"},
		"future":          {payout.Payout{Amount: yen(1), PaidAt: now.Add(time.Minute), Reference: "x"}, "paid_at"},
		"not the run's":   {payout.Payout{Amount: yen(1), PaidAt: now, Reference: "x", Run: &run, RunAmount: yen(2)}, "amount"},
		"long reference":  {payout.Payout{Amount: yen(1), PaidAt: now, Reference: string(make([]byte, 65))}, "reference"},
		"missing paid_at": {payout.Payout{Amount: yen(1), Reference: "x"}, "paid_at"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := payout.FromHistory(nil).Pay(c.x, yen(100), now)
			require.Equal(t, errs.KindInvalid, errs.KindOf(err), "%v", err)
			require.Contains(t, err.Error(), c.field)
		})
	}
	p := payout.FromHistory(nil)
	x := payout.Payout{Amount: yen(2), PaidAt: now, Reference: "R-1", Run: &run, RunAmount: yen(2)}
	require.NoError(t, p.Pay(x, yen(100), now))
	x.Reference = "R-2"
	require.ErrorIs(t, p.Pay(x, yen(100), now), payout.ErrRunItemPaid)
}

func TestNewRunPaysVendorsWithAnAccountFromTheMinimum(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	acct := &tenant.BankAccount{BankCode: "0001", BranchCode: "100", AccountType: "ordinary", AccountNumber: "1234567", AccountHolder: "ｶ)ﾃｽﾄ"}
	a, b, c, d := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	r, err := payout.NewRun(payout.RunID{UUID: uuid.New()}, tenant.ID{UUID: uuid.New()}, now, yen(1000), []payout.Candidate{
		{Vendor: a, Amount: yen(1000), Account: acct},
		{Vendor: b, Amount: yen(999), Account: acct},
		{Vendor: c, Amount: yen(5000)},
		{Vendor: d, Amount: yen(2500), Account: acct},
	}, now)
	require.NoError(t, err)
	got := r.Created()
	require.Len(t, got.Items, 2)
	require.Equal(t, []uuid.UUID{a, d}, []uuid.UUID{got.Items[0].Vendor, got.Items[1].Vendor})
	require.Equal(t, "3500", got.Total.AmountString())
	require.Equal(t, []payout.RunSkip{{Vendor: c, Amount: yen(5000), Reason: "no_payout_account"}}, got.Skipped)
	item, ok := r.Item(d)
	require.True(t, ok)
	require.Equal(t, "2500", item.Amount.AmountString())
	_, ok = payout.RunFromHistory(r.Pending()).Item(b)
	require.False(t, ok)

	_, err = payout.NewRun(payout.RunID{UUID: uuid.New()}, tenant.ID{}, now, yen(1000), []payout.Candidate{{Vendor: b, Amount: yen(999), Account: acct}}, now)
	require.ErrorIs(t, err, payout.ErrNothingToPay)
	_, err = payout.NewRun(payout.RunID{UUID: uuid.New()}, tenant.ID{}, now.Add(time.Hour), yen(0), nil, now)
	require.Equal(t, errs.KindInvalid, errs.KindOf(err))
}
