package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/ledger"
)

// Entries and statements come in log order by the transaction id as a
// number: a vendor's lines from transactions 9, 10 and 100 page as 9, 10,
// 100 (as text they would sort "10", "100", "9"), whether they share a
// date or not, and the pages after a cursor neither skip nor repeat.
func TestEntriesInLogOrderAcrossTransactionIDDigits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	projtest.Run(t, pool, ledger.Projector{Registry: app.Registry()})
	tn, v := tenant.NewID(), uuid.Must(uuid.NewV7())
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var want []uuid.UUID
	for i, tx := range []string{"9", "10", "100"} {
		ev := uuid.Must(uuid.NewV7())
		want = append(want, ev)
		_, err := pool.Exec(ctx, `INSERT INTO ledger_entries (tenant_id, entry_id, event_id, seq, tx_id, position, vendor_id, account, currency, debit, credit, at)
VALUES ($1, $2, $3, 0, $4::text::xid8, $5, $6, 'vendor:held', 'JPY', 0, 100, $7)`, tn, uuid.Must(uuid.NewV7()), ev, tx, 1000-i, v, at)
		require.NoError(t, err)
	}

	var got []uuid.UUID
	p := projections.Page{Limit: 1}
	for {
		l, err := ledger.ListEntries(ctx, pool, tn, v, p)
		require.NoError(t, err)
		for _, e := range l.Items {
			got = append(got, e.EventID)
		}
		if l.NextCursor == nil {
			break
		}
		p.Cursor = *l.NextCursor
	}
	require.Equal(t, want, got, "pages of one entry")
	l, err := ledger.ListEntries(ctx, pool, tn, v, projections.Page{Limit: 10})
	require.NoError(t, err)
	got = got[:0]
	for _, e := range l.Items {
		got = append(got, e.EventID)
	}
	require.Equal(t, want, got, "one page")

	got = got[:0]
	_, err = ledger.Statement(ctx, pool, tn, v, money.JPY, at.Add(-time.Hour), at.Add(time.Hour), func(ledger.Owed) error { return nil },
		func(l ledger.StatementLine) error { got = append(got, l.EventID); return nil })
	require.NoError(t, err)
	require.Equal(t, want, got, "statement lines of one date")
}
