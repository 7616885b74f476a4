package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
)

// A command's transaction sends its BEGIN with its first statement, in one
// round trip, and is one transaction all the same: the first statement is
// inside it, a failure rolls back everything it wrote, and a transaction
// that sends nothing sends no BEGIN or COMMIT.
func TestACommandsBeginGoesWithItsFirstStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	store := eventstore.New(pool, eventstore.NewRegistry())
	_, err := pool.Exec(ctx, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`)
	require.NoError(t, err)

	// Every way of sending a first statement: each reads the transaction's
	// id first and again after, and writes a row.
	firsts := map[string]func(ctx context.Context, tx *eventstore.Tx) (string, error){
		"QueryRow": func(ctx context.Context, tx *eventstore.Tx) (string, error) {
			var id string
			err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text WHERE $1::int > 0`, 1).Scan(&id)
			return id, err
		},
		"Query": func(ctx context.Context, tx *eventstore.Tx) (string, error) {
			rows, err := tx.Query(ctx, `SELECT pg_current_xact_id()::text WHERE $1::int > 0`, 1)
			if err != nil {
				return "", err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil || len(ids) != 1 {
				return "", errors.Join(err, errors.New("not one row"))
			}
			return ids[0], nil
		},
		"SendBatch": func(ctx context.Context, tx *eventstore.Tx) (string, error) {
			b := &pgx.Batch{}
			b.Queue(`SELECT pg_current_xact_id()::text WHERE $1::int > 0`, 1)
			br := tx.SendBatch(ctx, b)
			var id string
			err := br.QueryRow().Scan(&id)
			return id, errors.Join(err, br.Close())
		},
		"Exec without arguments": func(ctx context.Context, tx *eventstore.Tx) (string, error) {
			if _, err := tx.Exec(ctx, `SET LOCAL application_name = 'first'`); err != nil {
				return "", err
			}
			var id string
			err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&id)
			return id, err
		},
	}
	n := 0
	for name, first := range firsts {
		n++
		sent.Watch(nil)
		_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			id, err := first(ctx, tx)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, n, name); err != nil {
				return err
			}
			var again string
			if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&again); err != nil {
				return err
			}
			require.Equal(t, id, again, "%s: the first statement ran inside the transaction", name)
			return nil
		})
		require.NoError(t, err, name)
		trips, begins := sent.Counts().Trips, sent.Counts().Begins
		if name == "Exec without arguments" {
			require.Equal(t, 1, begins, "%s: a BEGIN of its own", name)
			require.Equal(t, 6, trips, "%s: BEGIN, SET, three statements, COMMIT", name)
		} else {
			require.Equal(t, 0, begins, "%s: no BEGIN of its own", name)
			require.Equal(t, 4, trips, "%s: BEGIN with the first, two statements, COMMIT", name)
		}
	}

	// A failure rolls back what the transaction wrote, the first statement's
	// row included.
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, 100, "rolled back"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, 1, "a duplicate")
		return err
	})
	require.Error(t, err)
	var count int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&count))
	require.Equal(t, len(firsts), count)

	// A first statement that fails leaves nothing behind either.
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, 1, "a duplicate")
		return err
	})
	require.Error(t, err)

	// Nothing sent, nothing to begin or commit.
	sent.Watch(nil)
	_, err = store.Do(ctx, func(context.Context, *eventstore.Tx) error { return nil })
	require.NoError(t, err)
	trips := sent.Counts().Trips
	require.Zero(t, trips)

	// The pool's connections are all back, outside any transaction.
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&count))
	require.Equal(t, len(firsts), count)
	require.Zero(t, pool.Stat().AcquiredConns())
}
