package bankstatements_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections/bankstatements"
)

func yen(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }

// The read model folds imports and decisions; a rebuild and a replay over
// the rows give the rows the live tail built.
func TestProjectorReplays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	reg := app.Registry()
	st := eventstore.New(pool, reg)
	now := time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC)
	cmds := commands.New(st, func() time.Time { return now })
	p := bankstatements.Projector{Registry: reg}
	runner := projtest.Run(t, pool, p)
	by := commands.By{Actor: "test"}
	shop, _, err := cmds.CreateTenant(ctx, commands.CreateTenant{By: by, Code: "stmts", Name: "stmts", Type: "single_brand"})
	require.NoError(t, err)
	tn := shop.Tenant

	sid := statement.ID{UUID: uuid.New()}
	lines := []statement.Line{
		{Key: "a", Record: 2, Date: now, Deposit: true, Amount: yen(3000), PayerName: "00000127 ﾔﾏﾀﾞ"},
		{Key: "b", Record: 3, Date: now, Deposit: true, Amount: yen(1000), PayerName: "ﾀﾅｶ"},
		{Key: "c", Record: 4, Date: now, Amount: yen(440)},
	}
	_, err = cmds.ImportStatement(ctx, commands.ImportStatement{Tenant: tn, By: by, Statement: sid, Format: "zengin", Lines: lines})
	require.NoError(t, err)
	a, b := statement.LineIDOf(tn.UUID, "a"), statement.LineIDOf(tn.UUID, "b")
	order := uuid.New()
	_, err = cmds.RecordMatches(ctx, commands.RecordMatches{Tenant: tn, By: by, Statement: sid,
		Matches: []commands.LineMatch{{Line: a, Allocations: []statement.Allocation{{Order: order, Payment: uuid.New(), Amount: yen(3000)}}}}})
	require.NoError(t, err)
	_, err = cmds.IgnoreStatementLine(ctx, commands.IgnoreStatementLine{Tenant: tn, By: by, Statement: sid, Line: b, Reason: "not ours"})
	require.NoError(t, err)
	// The same lines again: a statement of duplicates only.
	again := statement.ID{UUID: uuid.New()}
	_, err = cmds.ImportStatement(ctx, commands.ImportStatement{Tenant: tn, By: by, Statement: again, Format: "zengin", Lines: lines})
	require.NoError(t, err)
	sh := uuid.New()
	res, err := cmds.ImportRemittance(ctx, commands.ImportRemittance{Tenant: tn, By: by, Remittance: statement.RemittanceID{UUID: uuid.New()},
		Lines: []statement.RemittanceLine{{Key: "r1", Record: 2, TrackingNo: "1", Amount: yen(2630), Fee: yen(330), RemittedOn: now,
			Status: statement.RemittanceCollected, Shipment: &sh, Order: &order}}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { ok, err := runner.CaughtUp(ctx, res.Last); return err == nil && ok }, 30*time.Second, 5*time.Millisecond)

	var status, how string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, how FROM bank_statement_lines WHERE tenant_id = $1 AND line_id = $2`, tn, a).Scan(&status, &how))
	require.Equal(t, []string{"matched", "auto"}, []string{status, how})
	var reason string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, reason FROM bank_statement_lines WHERE tenant_id = $1 AND line_id = $2`, tn, b).Scan(&status, &reason))
	require.Equal(t, []string{"ignored", "not ours"}, []string{status, reason})
	var n, dups int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM bank_statement_lines WHERE tenant_id = $1`, tn).Scan(&n))
	require.Equal(t, 3, n, "the second statement added no line")
	require.NoError(t, pool.QueryRow(ctx, `SELECT duplicates FROM bank_statements WHERE statement_id = $1`, again.UUID).Scan(&dups))
	require.Equal(t, 3, dups)

	live := projtest.Dump(t, pool, bankstatements.Tables...)
	require.NoError(t, runner.Rebuild(ctx, "bank_statements", nil))
	replay1 := projtest.Dump(t, pool, bankstatements.Tables...)
	require.NoError(t, runner.Rebuild(ctx, "bank_statements", nil))
	require.Equal(t, live, replay1)
	require.Equal(t, replay1, projtest.Dump(t, pool, bankstatements.Tables...))
	tx := projtest.Reapply(t, pool, p)
	require.Equal(t, live, projtest.Dump(t, tx, bankstatements.Tables...))
}
