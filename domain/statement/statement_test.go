package statement_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
)

var now = time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

func imported(t *testing.T) (statement.Imported, statement.Line, statement.Line) {
	t.Helper()
	tn := uuid.New()
	dep := statement.Line{ID: statement.LineIDOf(tn, "a"), Key: "a", Record: 2, Date: now, Deposit: true, Amount: yen(3000), PayerName: "ﾔﾏﾀﾞ"}
	out := statement.Line{ID: statement.LineIDOf(tn, "b"), Key: "b", Record: 3, Date: now, Amount: yen(440)}
	s, err := statement.Import(statement.ID{UUID: uuid.New()}, "zengin", []statement.Line{dep, out}, 0, "test", now)
	require.NoError(t, err)
	return s.Pending()[0].(statement.Imported), dep, out
}

func TestLineIDsAreStablePerTenant(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	require.Equal(t, statement.LineIDOf(a, "k"), statement.LineIDOf(a, "k"))
	require.NotEqual(t, statement.LineIDOf(a, "k"), statement.LineIDOf(b, "k"))
}

func TestImportNeedsLines(t *testing.T) {
	t.Parallel()
	_, err := statement.Import(statement.ID{UUID: uuid.New()}, "csv", nil, 0, "test", now)
	require.ErrorIs(t, err, statement.ErrNoLines)
	s, err := statement.Import(statement.ID{UUID: uuid.New()}, "csv", nil, 3, "test", now)
	require.NoError(t, err, "a file imported before: an empty statement counting its duplicates")
	require.Equal(t, 3, s.Pending()[0].(statement.Imported).Duplicates)
}

func TestWithdrawalsAreIgnoredAndNeverMatched(t *testing.T) {
	t.Parallel()
	imp, _, out := imported(t)
	s := statement.FromHistory([]aggregate.Event{imp})
	require.Equal(t, statement.StatusIgnored, s.Status(out.ID))
	err := s.Match(out.ID, []statement.Allocation{{Order: uuid.New(), Amount: yen(440)}}, statement.Staff, "staff", now)
	require.ErrorIs(t, err, statement.ErrNotDeposit)
	require.Empty(t, s.Pending())
}

func TestMatchOnceAndAddUp(t *testing.T) {
	t.Parallel()
	imp, dep, _ := imported(t)
	s := statement.FromHistory([]aggregate.Event{imp})
	o1, o2 := uuid.New(), uuid.New()
	require.ErrorIs(t, s.Match(dep.ID, []statement.Allocation{{Order: o1, Amount: yen(2000)}}, statement.Auto, "job", now), statement.ErrAllocation)
	require.ErrorIs(t, s.Match(dep.ID, nil, statement.Auto, "job", now), statement.ErrAllocation)
	require.ErrorIs(t, s.Match(statement.LineIDOf(uuid.New(), "x"), nil, statement.Auto, "job", now), statement.ErrLineNotFound)
	combined := []statement.Allocation{{Order: o1, Amount: yen(1000)}, {Order: o2, Amount: yen(2000)}}
	require.NoError(t, s.Match(dep.ID, combined, statement.Auto, "job", now))
	require.Len(t, s.Pending(), 1)
	require.Equal(t, statement.StatusMatched, s.Status(dep.ID))
	require.Equal(t, combined, s.Allocations(dep.ID))

	s = statement.FromHistory([]aggregate.Event{imp, s.Pending()[0]})
	require.NoError(t, s.Match(dep.ID, combined, statement.Auto, "job", now), "the same match again")
	require.Empty(t, s.Pending())
	require.ErrorIs(t, s.Match(dep.ID, []statement.Allocation{{Order: uuid.New(), Amount: yen(3000)}}, statement.Staff, "staff", now), statement.ErrLineDecided)
	require.ErrorIs(t, s.Ignore(dep.ID, "x", "staff", now), statement.ErrLineDecided)
}

func TestIgnoreThenMatch(t *testing.T) {
	t.Parallel()
	imp, dep, _ := imported(t)
	s := statement.FromHistory([]aggregate.Event{imp})
	require.NoError(t, s.Ignore(dep.ID, "unknown payer", "staff", now))
	require.NoError(t, s.Ignore(dep.ID, "unknown payer", "staff", now))
	require.Len(t, s.Pending(), 1, "ignoring twice records once")
	require.Equal(t, statement.StatusIgnored, s.Status(dep.ID))
	require.NoError(t, s.Match(dep.ID, []statement.Allocation{{Order: uuid.New(), Amount: yen(3000)}}, statement.Staff, "staff", now),
		"staff found the order after all")
	require.Equal(t, statement.StatusMatched, s.Status(dep.ID))
}

func TestRemittanceRecordsFeesOfMatchedLines(t *testing.T) {
	t.Parallel()
	sh, o := uuid.New(), uuid.New()
	lines := []statement.RemittanceLine{
		{Key: "1", Record: 2, TrackingNo: "1", Amount: yen(2630), Fee: yen(330), Status: statement.RemittanceCollected, Shipment: &sh, Order: &o},
		{Key: "2", Record: 3, TrackingNo: "2", Amount: yen(1000), Fee: yen(330), Status: statement.RemittanceUnknownTracking},
	}
	r, err := statement.ImportRemittance(statement.RemittanceID{UUID: uuid.New()}, lines, 0, "test", now)
	require.NoError(t, err)
	require.Len(t, r.Pending(), 2)
	fee := r.Pending()[1].(statement.CarrierFeeRecorded)
	require.Equal(t, sh, fee.Shipment)
	require.Equal(t, o, fee.Order)
	require.True(t, fee.Fee.Equal(yen(330)))
}
