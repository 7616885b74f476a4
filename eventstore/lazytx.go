package eventstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is the pgx.Tx of a command: its BEGIN goes to the server with the
// transaction's first statement, in one round trip (a batch begun with
// pgx.Batch.BeginTx), instead of a round trip of its own. A command's
// transaction takes five or six round trips; this saves one of them for
// every transaction of every order. A transaction that sends nothing
// sends no BEGIN, and its Commit sends nothing.
//
// It holds its pooled connection from beginLazy to Commit or Rollback;
// once begun, every call goes to pgx's own transaction.
type lazyTx struct {
	conn *pgxpool.Conn
	tx   pgx.Tx // once its BEGIN was sent
	done bool
}

var _ pgx.Tx = (*lazyTx)(nil)

// beginLazy acquires a connection of pool for a transaction that begins
// with its first statement.
func beginLazy(ctx context.Context, pool *pgxpool.Pool) (*lazyTx, error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &lazyTx{conn: c}, nil
}

// begun returns the transaction, beginning it now (a round trip of its
// own) if no statement has been sent yet; for the calls that cannot carry
// BEGIN with them.
func (t *lazyTx) begun(ctx context.Context) (pgx.Tx, error) {
	if t.done {
		return nil, pgx.ErrTxClosed
	}
	if t.tx == nil {
		tx, err := t.conn.Begin(ctx)
		if err != nil {
			return nil, err
		}
		t.tx = tx
	}
	return t.tx, nil
}

// first sends BEGIN and the statements of b in one round trip; the results
// returned are b's.
func (t *lazyTx) first(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	nb := &pgx.Batch{}
	nb.BeginTx(pgx.TxOptions{})
	nb.QueuedQueries = append(nb.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, nb)
	t.tx = br.Tx()
	if _, err := br.Exec(); err != nil {
		br.Close() //nolint:errcheck // the error is BEGIN's
		return pgx.FailedBatchResults(b, fmt.Errorf("begin: %w", err))
	}
	return br
}

// Exec implements pgx.Tx.
func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	// pgx sends a statement without arguments by the simple protocol,
	// which a batch cannot carry (it may hold several statements).
	if t.tx != nil || t.done || len(args) == 0 {
		tx, err := t.begun(ctx)
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		return tx.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.first(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query implements pgx.Tx.
func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.tx != nil || t.done {
		tx, err := t.begun(ctx)
		if err != nil {
			return nil, err
		}
		return tx.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := t.first(ctx, b)
	rows, err := br.Query()
	if err != nil {
		br.Close() //nolint:errcheck // the query's error is the one to report
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow implements pgx.Tx.
func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.tx != nil || t.done {
		tx, err := t.begun(ctx)
		if err != nil {
			return errRow{err}
		}
		return tx.QueryRow(ctx, sql, args...)
	}
	rows, err := t.Query(ctx, sql, args...)
	if err != nil {
		return errRow{err}
	}
	return firstRow{rows}
}

// SendBatch implements pgx.Tx.
func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.tx != nil || t.done {
		tx, err := t.begun(ctx)
		if err != nil {
			return pgx.FailedBatchResults(b, err)
		}
		return tx.SendBatch(ctx, b)
	}
	return t.first(ctx, b)
}

// CopyFrom implements pgx.Tx.
func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, columns, src)
}

// Prepare implements pgx.Tx.
func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

// Begin implements pgx.Tx (a savepoint).
func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

// LargeObjects implements pgx.Tx; it needs the transaction begun by a
// statement before it.
func (t *lazyTx) LargeObjects() pgx.LargeObjects {
	if t.tx == nil {
		return pgx.LargeObjects{}
	}
	return t.tx.LargeObjects()
}

// Conn implements pgx.Tx.
func (t *lazyTx) Conn() *pgx.Conn { return t.conn.Conn() }

// Commit implements pgx.Tx: it commits what the transaction sent (one
// that sent nothing has nothing to commit) and gives the connection back
// to the pool.
func (t *lazyTx) Commit(ctx context.Context) error {
	return t.end(ctx, pgx.Tx.Commit)
}

// Rollback implements pgx.Tx: it rolls back what the transaction sent and
// gives the connection back to the pool (which closes a connection left
// inside a transaction). After Commit it returns pgx.ErrTxClosed.
func (t *lazyTx) Rollback(ctx context.Context) error {
	return t.end(ctx, pgx.Tx.Rollback)
}

// commitBatch sends b's statements and COMMIT in one round trip (with
// BEGIN too when nothing was sent before); read consumes b's results, in
// order. When a statement fails, the server skips the rest and the COMMIT,
// and the transaction stays open, failed, for Rollback; when the COMMIT
// itself fails, the server has ended the transaction. Either way the error
// is returned. An error read finds in a result it read correctly (a check
// of a value) comes too late: the server has committed. The connection goes
// back to the pool once the transaction has ended on the server.
func (t *lazyTx) commitBatch(ctx context.Context, b *pgx.Batch, read func(pgx.BatchResults) error) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	b.Queue("COMMIT")
	var br pgx.BatchResults
	if t.tx == nil {
		br = t.first(ctx, b)
	} else {
		br = t.tx.SendBatch(ctx, b)
	}
	err := read(br)
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if t.conn.Conn().PgConn().TxStatus() == 'I' {
		t.done = true
		t.conn.Release()
	}
	return err
}

// end ends the transaction with commit or rollback, if it began, and
// releases the connection.
func (t *lazyTx) end(ctx context.Context, how func(pgx.Tx, context.Context) error) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.done = true
	defer t.conn.Release()
	if t.tx == nil {
		return nil
	}
	return how(t.tx, ctx)
}

// batchRows are the rows of a transaction's first statement: closing them
// also closes the batch that carried BEGIN, so the connection is free for
// the next statement.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

// Next implements pgx.Rows; past the last row it closes the batch.
func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// Close implements pgx.Rows.
func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.err = r.br.Close()
	}
}

// Err implements pgx.Rows: the rows' error, else the batch's.
func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// firstRow is pgx.Row over rows: the first row, or pgx.ErrNoRows.
type firstRow struct{ rows pgx.Rows }

// Scan implements pgx.Row.
func (r firstRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// errRow is a pgx.Row that fails with err.
type errRow struct{ err error }

// Scan implements pgx.Row.
func (r errRow) Scan(...any) error { return r.err }
