package eventstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

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

// A statement made the transaction's last by CommitWith goes to the server
// with the COMMIT, in the same round trip: the row it returns is read, a
// failure of it or of the COMMIT rolls back the whole transaction, and the
// connection goes back to the pool either way.
func TestALastStatementGoesWithTheCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	store := eventstore.New(pool, eventstore.NewRegistry())
	_, err := pool.Exec(ctx, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
CREATE TABLE counters (id int PRIMARY KEY, last int NOT NULL CHECK (last <= 200));
INSERT INTO counters VALUES (1, 0);
CREATE TABLE deferred (id int, CONSTRAINT deferred_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`)
	require.NoError(t, err)
	const next = `UPDATE counters SET last = last + 1 WHERE id = 1 RETURNING last`
	notes := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notes`).Scan(&n))
		return n
	}

	// After a statement: two round trips, BEGIN with the first, the last
	// with the COMMIT.
	sent.Watch(nil)
	var n int
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, 1, "first"); err != nil {
			return err
		}
		tx.CommitWith(next, nil, &n)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 2, sent.Counts().Trips)
	require.Equal(t, 1, notes())

	// Alone: BEGIN, the statement and COMMIT in one round trip.
	sent.Watch(nil)
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		tx.CommitWith(next, nil, &n)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, 1, sent.Counts().Trips)
	require.Equal(t, 0, sent.Counts().Begins)

	// A function that fails sends no last statement.
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		tx.CommitWith(next, nil, &n)
		return errors.New("refused")
	})
	require.EqualError(t, err, "refused")

	// A last statement that fails rolls back what came before it.
	_, err = pool.Exec(ctx, `UPDATE counters SET last = 200`)
	require.NoError(t, err)
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO notes VALUES ($1, $2)`, 2, "rolled back"); err != nil {
			return err
		}
		tx.CommitWith(next, nil, &n)
		return nil
	})
	var pgErr *pgconn.PgError
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23514", pgErr.Code, "the CHECK of the counter")
	require.Equal(t, 1, notes())

	// A COMMIT that fails (a deferred constraint) ends the transaction
	// with nothing written.
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO deferred VALUES ($1), ($1)`, 7); err != nil {
			return err
		}
		tx.CommitWith(`INSERT INTO notes VALUES ($1, $2) RETURNING id`, []any{3, "not committed"}, &n)
		return nil
	})
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "23505", pgErr.Code, "the deferred unique constraint, at COMMIT")
	require.Equal(t, 1, notes())

	// Under concurrency every transaction takes its own number, and no
	// connection is left behind.
	_, err = pool.Exec(ctx, `UPDATE counters SET last = 0`)
	require.NoError(t, err)
	const workers, each = 16, 10
	got := make(chan int, workers*each)
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for range each {
				var mine int
				if _, err := store.Do(gctx, func(ctx context.Context, tx *eventstore.Tx) error {
					tx.CommitWith(next, nil, &mine)
					return nil
				}); err != nil {
					return err
				}
				got <- mine
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	close(got)
	var numbers []int
	for v := range got {
		numbers = append(numbers, v)
	}
	slices.Sort(numbers)
	for i, v := range numbers {
		require.Equal(t, i+1, v)
	}
	require.Len(t, numbers, workers*each)
	require.Zero(t, pool.Stat().AcquiredConns())
}
