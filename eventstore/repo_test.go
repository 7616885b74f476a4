package eventstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
)

// counter is a tiny aggregate: the sum of the noted events' N and the
// plans of the sign-ups (personal data).
type counter struct {
	aggregate.Base
	sum   int
	plans []string
}

func counterFrom(history []eventstore.Event) *counter {
	c := &counter{}
	for _, e := range history {
		c.apply(e)
	}
	c.Replayed(len(history))
	return c
}

func (c *counter) apply(e eventstore.Event) {
	switch e := e.(type) {
	case noted:
		c.sum += e.N
	case signedUp:
		c.plans = append(c.plans, e.Plan)
	}
}

func (c *counter) add(n int) { e := noted{N: n}; c.apply(e); c.Record(e) }

// counterStreams is one counter stream in a fresh database, seen through
// two stores (two processes).
type counterStreams struct {
	store, other *eventstore.Store
	tn           tenant.ID
	id           uuid.UUID
	md           eventstore.Metadata
}

func newCounterStreams(t *testing.T) *counterStreams {
	t.Helper()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(noted{}, signedUp{})
	tn := tenant.NewID()
	return &counterStreams{store: eventstore.New(pool, reg), other: eventstore.New(pool, reg), tn: tn, id: uuid.Must(uuid.NewV7()),
		md: eventstore.Metadata{Tenant: tn, Actor: "test"}}
}

// add adds n to the counter through s with repo, creating the stream.
func (cs *counterStreams) add(t *testing.T, s *eventstore.Store, repo eventstore.Repo[*counter], n int) {
	t.Helper()
	_, err := s.Do(context.Background(), func(ctx context.Context, tx *eventstore.Tx) error {
		c, err := repo.Load(ctx, tx, cs.tn, cs.id)
		if err != nil {
			c = &counter{}
		}
		c.add(n)
		_, err = repo.Save(ctx, tx, cs.tn, cs.id, c, nil, cs.md)
		return err
	})
	require.NoError(t, err)
}

// Read hands out the committed aggregate without reading its history
// again, sees every newer event (of this process or another), and keeps
// nothing of a stream with personal data or of an instance changed in
// spite of its contract.
func TestReadSharesTheCommittedAggregateAndSeesNewerEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := newCounterStreams(t)
	store, other, tn, id, md := cs.store, cs.other, cs.tn, cs.id, cs.md
	repo := eventstore.Repo[*counter]{StreamType: "counter", FromHistory: counterFrom}
	save := func(s *eventstore.Store, n int) { cs.add(t, s, repo, n) }
	read := func(s *eventstore.Store) *counter {
		var c *counter
		_, err := s.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			var err error
			c, err = repo.Read(ctx, tx, tn, id)
			return err
		})
		require.NoError(t, err)
		return c
	}

	_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := repo.Read(ctx, tx, tn, id)
		return err
	})
	require.ErrorIs(t, err, eventstore.ErrNotFound)

	save(store, 1)
	save(store, 2)
	first := read(store)
	require.Equal(t, 3, first.sum)
	require.Same(t, first, read(store), "the committed instance is shared")

	// A newer event, here from another process, is seen at once.
	save(other, 4)
	fresh := read(store)
	require.Equal(t, 7, fresh.sum)
	require.EqualValues(t, 3, fresh.LoadedVersion())
	require.Equal(t, 3, first.sum, "an instance handed out is never changed")
	require.Same(t, fresh, read(store))

	// An instance changed against the contract is not handed out again.
	fresh.add(100)
	again := read(store)
	require.NotSame(t, fresh, again)
	require.Equal(t, 7, again.sum)
	require.Empty(t, again.Pending())

	// A transaction that rolls back keeps nothing it read.
	id2 := uuid.Must(uuid.NewV7())
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		c := &counter{}
		c.add(5)
		if _, err := repo.Save(ctx, tx, tn, id2, c, nil, md); err != nil {
			return err
		}
		if _, err := repo.Read(ctx, tx, tn, id2); err != nil {
			return err
		}
		return context.Canceled
	})
	require.ErrorIs(t, err, context.Canceled)
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := repo.Read(ctx, tx, tn, id2)
		return err
	})
	require.ErrorIs(t, err, eventstore.ErrNotFound, "the rolled-back stream is not remembered")

	// A stream with personal data is read in full each time.
	pid := uuid.Must(uuid.NewV7())
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: tn, Type: "counter", ID: pid}, 0,
			[]eventstore.Event{signedUp{Who: pid, Email: "a@example.jp", Name: "山田 太郎", Plan: "gold"}}, md)
		return err
	})
	require.NoError(t, err)
	var p1, p2 *counter
	for _, p := range []**counter{&p1, &p2} {
		_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			var err error
			*p, err = repo.Read(ctx, tx, tn, pid)
			return err
		})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"gold"}, p1.plans)
	require.NotSame(t, p1, p2, "a stream with personal data is not kept")
}

// In one transaction, Read answers as of its first read: a second Read
// costs nothing even if another process appended meanwhile, until the
// transaction appends to the stream itself.
func TestReadInATransactionIsAsOfItsFirstRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := newCounterStreams(t)
	store, other, tn, id, md := cs.store, cs.other, cs.tn, cs.id, cs.md
	repo := eventstore.Repo[*counter]{StreamType: "counter", FromHistory: counterFrom}
	add := func(s *eventstore.Store, n int) { cs.add(t, s, repo, n) }
	add(store, 1)
	_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		first, err := repo.Read(ctx, tx, tn, id)
		require.NoError(t, err)
		require.Equal(t, 1, first.sum)
		add(other, 2)
		second, err := repo.Read(ctx, tx, tn, id)
		require.NoError(t, err)
		require.Same(t, first, second, "read again in the transaction: as of its first read")

		c, err := repo.Load(ctx, tx, tn, id)
		require.NoError(t, err)
		c.add(4)
		_, err = repo.Save(ctx, tx, tn, id, c, nil, md)
		require.NoError(t, err)
		third, err := repo.Read(ctx, tx, tn, id)
		require.NoError(t, err)
		require.Equal(t, 7, third.sum, "after appending to the stream, the transaction reads it again")
		return nil
	})
	require.NoError(t, err)
}

// continueCounter is the counter's Repo.Continue: a copy as stored, with
// more applied.
func continueCounter(c *counter, more []eventstore.Event) *counter {
	n := *c
	n.Saved()
	n.plans = append([]string(nil), c.plans...)
	for _, e := range more {
		n.apply(e)
	}
	n.Replayed(len(more))
	return &n
}

// With Continue, Load starts from the state kept after the last committed
// transaction that loaded or saved the stream and reads only the events
// after it: the history is replayed once, every load returns an instance of
// its own, another process's events are seen, and nothing of a rolled-back
// transaction, of an unsaved change or of a stream with personal data is
// kept.
func TestLoadContinuesTheKeptStateOfTheStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := newCounterStreams(t)
	store, other := cs.store, cs.other
	var replays atomic.Int64
	repo := eventstore.Repo[*counter]{StreamType: "counter", Continue: continueCounter,
		FromHistory: func(h []eventstore.Event) *counter { replays.Add(1); return counterFrom(h) }}
	plain := eventstore.Repo[*counter]{StreamType: "counter", FromHistory: counterFrom}
	tn, id, md := cs.tn, cs.id, cs.md
	update := func(s *eventstore.Store, r eventstore.Repo[*counter], n int, fail error) (*counter, error) {
		var c *counter
		_, err := s.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			var err error
			if c, err = r.Load(ctx, tx, tn, id); errors.Is(err, eventstore.ErrNotFound) {
				c, err = &counter{}, nil
			}
			if err != nil {
				return err
			}
			if n != 0 {
				c.add(n)
				if _, err := r.Save(ctx, tx, tn, id, c, nil, md); err != nil {
					return err
				}
			}
			return fail
		})
		return c, err
	}
	load := func() *counter {
		c, err := update(store, repo, 0, nil)
		require.NoError(t, err)
		return c
	}

	_, err := update(store, plain, 1, nil)
	require.NoError(t, err)
	_, err = update(store, repo, 2, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, replays.Load())
	first, second := load(), load()
	require.NotSame(t, first, second, "every load returns an instance of its own")
	require.Equal(t, 3, second.sum)
	require.EqualValues(t, 2, second.LoadedVersion())
	require.EqualValues(t, 1, replays.Load(), "the history is replayed once")

	// A change made to a loaded instance is not kept unless saved.
	second.add(1000)
	require.Equal(t, 3, load().sum)

	// Another process's events are read and applied.
	_, err = update(other, plain, 4, nil)
	require.NoError(t, err)
	c := load()
	require.Equal(t, 7, c.sum)
	require.EqualValues(t, 3, c.LoadedVersion())

	// A rolled-back transaction keeps nothing.
	rollback := errors.New("roll back")
	_, err = update(store, repo, 8, rollback)
	require.ErrorIs(t, err, rollback)
	c = load()
	require.Equal(t, 7, c.sum)
	require.EqualValues(t, 3, c.LoadedVersion())
	require.EqualValues(t, 1, replays.Load())

	// A stream with personal data is replayed every time.
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.Append(ctx, eventstore.Stream{Tenant: tn, Type: "counter", ID: id}, 3,
			[]eventstore.Event{signedUp{Who: id, Email: "a@example.jp", Name: "山田 太郎", Plan: "gold"}}, md)
		return err
	})
	require.NoError(t, err)
	c = load()
	require.Equal(t, []string{"gold"}, c.plans)
	require.Equal(t, 7, c.sum)
	before := replays.Load()
	load()
	require.Equal(t, before+1, replays.Load(), "a stream with personal data is not kept")
}

// ReadAhead checks every stream a transaction is about to read in one
// statement: a kept stream with no newer event is then read without a
// probe of its own, and one that moved on (or is not kept) is read in full.
func TestReadAheadChecksTheStreamsAboutToBeReadInOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	reg := eventstore.NewRegistry()
	reg.Register(noted{}, signedUp{})
	store, other := eventstore.New(pool, reg), eventstore.New(pool, reg)
	tn := tenant.NewID()
	md := eventstore.Metadata{Tenant: tn, Actor: "test"}
	repo := eventstore.Repo[*counter]{StreamType: "counter", FromHistory: counterFrom}
	add := func(s *eventstore.Store, id uuid.UUID, n int) {
		t.Helper()
		_, err := s.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			c, err := repo.Load(ctx, tx, tn, id)
			if err != nil {
				c = &counter{}
			}
			c.add(n)
			_, err = repo.Save(ctx, tx, tn, id, c, nil, md)
			return err
		})
		require.NoError(t, err)
	}
	kept, moved, unread := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	for _, id := range []uuid.UUID{kept, moved, unread} {
		add(store, id, 1)
	}
	_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		for _, id := range []uuid.UUID{kept, moved} {
			if _, err := repo.Read(ctx, tx, tn, id); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	add(other, moved, 2) // another process moves one of them on

	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		before := sent.Counts().Statements
		require.NoError(t, tx.ReadAhead(ctx, repo.Key(tn, kept), repo.Key(tn, moved), repo.Key(tn, unread), repo.Key(tn, kept)))
		require.Equal(t, before+1, sent.Counts().Statements, "one statement for every stream")

		c, err := repo.Read(ctx, tx, tn, kept)
		require.NoError(t, err)
		require.Equal(t, 1, c.sum)
		require.Equal(t, before+1, sent.Counts().Statements, "a kept, current stream is read without a probe")

		c, err = repo.Read(ctx, tx, tn, moved)
		require.NoError(t, err)
		require.Equal(t, 3, c.sum, "a stream that moved on is read again")
		c, err = repo.Read(ctx, tx, tn, unread)
		require.NoError(t, err)
		require.Equal(t, 1, c.sum)
		require.Greater(t, sent.Counts().Statements, before+2)
		return nil
	})
	require.NoError(t, err)
}

// LoadAhead reads a kept aggregate's newer events and checks the streams
// the transaction reads next in one round trip: the cart another process
// moved on is read as it is, a product that did not move is then read
// without a statement, and one that moved is read again in full.
func TestLoadAheadReadsTheStreamAndChecksTheOthersInOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	reg := eventstore.NewRegistry()
	reg.Register(noted{}, signedUp{})
	store, other := eventstore.New(pool, reg), eventstore.New(pool, reg)
	tn := tenant.NewID()
	md := eventstore.Metadata{Tenant: tn, Actor: "test"}
	repo := eventstore.Repo[*counter]{StreamType: "counter", Continue: continueCounter, FromHistory: counterFrom}
	plain := eventstore.Repo[*counter]{StreamType: "counter", FromHistory: counterFrom}
	add := func(s *eventstore.Store, r eventstore.Repo[*counter], id uuid.UUID, n int) {
		t.Helper()
		_, err := s.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			c, err := r.Load(ctx, tx, tn, id)
			if errors.Is(err, eventstore.ErrNotFound) {
				c, err = &counter{}, nil
			}
			if err != nil {
				return err
			}
			c.add(n)
			_, err = r.Save(ctx, tx, tn, id, c, nil, md)
			return err
		})
		require.NoError(t, err)
	}
	cart, product := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	add(store, repo, cart, 1)
	add(store, plain, product, 5)
	_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		if _, err := repo.Load(ctx, tx, tn, cart); err != nil { // kept for Load
			return err
		}
		_, err := plain.Read(ctx, tx, tn, product) // kept for Read
		return err
	})
	require.NoError(t, err)
	add(other, plain, cart, 2) // another process moves the cart on

	read := func(wantCart, wantProduct int) int {
		t.Helper()
		sent.Watch(nil)
		_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			c, err := repo.LoadAhead(ctx, tx, tn, cart, plain.Key(tn, product))
			if err != nil {
				return err
			}
			require.Equal(t, wantCart, c.sum)
			p, err := plain.Read(ctx, tx, tn, product)
			if err != nil {
				return err
			}
			require.Equal(t, wantProduct, p.sum)
			return nil
		})
		require.NoError(t, err)
		return sent.Counts().Trips
	}
	require.Equal(t, 2, read(3, 5), "the cart and the check with BEGIN, then COMMIT")
	add(other, plain, product, 10) // the product moves on
	require.Equal(t, 3, read(3, 15), "and the product read again")
}

// saving is a counter repository on a traced pool of a fresh database,
// for the tests of SaveAll and SaveAtCommit.
type saving struct {
	sent  *pgtest.Sent
	pool  *pgxpool.Pool
	store *eventstore.Store
	tn    tenant.ID
	md    eventstore.Metadata
	repo  eventstore.Repo[*counter]
}

func newSaving(t *testing.T) *saving {
	t.Helper()
	sent := &pgtest.Sent{}
	pool := pgtest.Traced(t, sent)
	reg := eventstore.NewRegistry()
	reg.Register(noted{}, signedUp{})
	tn := tenant.NewID()
	return &saving{sent: sent, pool: pool, store: eventstore.New(pool, reg), tn: tn,
		md: eventstore.Metadata{Tenant: tn, Actor: "test"}, repo: eventstore.Repo[*counter]{StreamType: "counter", FromHistory: counterFrom}}
}

// sum is counter id's sum as stored.
func (f *saving) sum(t *testing.T, id uuid.UUID) int {
	t.Helper()
	envs, err := f.store.Load(context.Background(), f.pool, f.tn, id)
	require.NoError(t, err)
	n := 0
	for _, e := range envs {
		n += e.Data.(noted).N
	}
	return n
}

// raced adds mine to counter id with save in a command, while another
// writer adds theirs with save between the command's load and its save;
// it returns how many times the command ran.
func (f *saving) raced(t *testing.T, id uuid.UUID, mine, theirs int, save func(ctx context.Context, tx *eventstore.Tx, c *counter) error) int {
	t.Helper()
	ctx := context.Background()
	add := func(n int) func(ctx context.Context, tx *eventstore.Tx) error {
		return func(ctx context.Context, tx *eventstore.Tx) error {
			c, err := f.repo.Load(ctx, tx, f.tn, id)
			if err != nil {
				return err
			}
			c.add(n)
			return save(ctx, tx, c)
		}
	}
	runs := 0
	_, err := f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		runs++
		c, err := f.repo.Load(ctx, tx, f.tn, id)
		if err != nil {
			return err
		}
		if runs == 1 {
			_, err := f.store.Do(ctx, add(theirs))
			require.NoError(t, err)
		}
		c.add(mine)
		return save(ctx, tx, c)
	})
	require.NoError(t, err)
	return runs
}

// SaveAll writes aggregates of several streams and the statements queued
// beside them in one round trip: a claim queued with QueueClaim that
// another owner holds fails the command with ErrClaimTaken and nothing of
// it is written, and a stream another writer moved on reruns the command.
func TestSaveAllWritesTheAggregatesAndTheQueuedStatementsInOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSaving(t)
	a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	owner := uuid.Must(uuid.NewV7())

	// Two new counters and a claim: one round trip, then the COMMIT.
	ca, cb := &counter{}, &counter{}
	_, err := f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		ca.add(1)
		cb.add(2)
		with := &pgx.Batch{}
		eventstore.QueueClaim(with, f.tn.UUID, "name", "first", owner)
		f.sent.Watch(nil)
		return tx.SaveAll(ctx, with, f.repo.Saving(f.tn, a, ca, f.md), f.repo.Saving(f.tn, b, cb, f.md))
	})
	require.NoError(t, err)
	require.Equal(t, 2, f.sent.Counts().Trips, "BEGIN with the writes, COMMIT")
	require.Equal(t, 3, f.sent.Counts().Statements, "the two counters' events in one statement, the claim, COMMIT")
	require.Empty(t, ca.Pending(), "saved")
	require.EqualValues(t, 1, cb.LoadedVersion())
	got, ok, err := eventstore.Owner(ctx, f.pool, f.tn.UUID, "name", "first")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, owner, got)

	// A claim another owner holds: nothing of the command is written.
	_, err = f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		c, err := f.repo.Load(ctx, tx, f.tn, a)
		if err != nil {
			return err
		}
		c.add(10)
		with := &pgx.Batch{}
		eventstore.QueueClaim(with, f.tn.UUID, "name", "first", uuid.Must(uuid.NewV7()))
		return tx.SaveAll(ctx, with, f.repo.Saving(f.tn, a, c, f.md))
	})
	require.ErrorIs(t, err, eventstore.ErrClaimTaken)
	require.Equal(t, 1, f.sum(t, a))

	// A stream moved on by another writer after the load: the command
	// runs again on the new state.
	runs := f.raced(t, b, 1000, 100, func(ctx context.Context, tx *eventstore.Tx, c *counter) error {
		return tx.SaveAll(ctx, nil, f.repo.Saving(f.tn, b, c, f.md))
	})
	require.Equal(t, 2, runs)
	require.Equal(t, 1102, f.sum(t, b))
}

// SaveAtCommit sends the saves with the COMMIT: a command that only saves
// is one round trip. A stream moved on by another writer reruns the
// command; a statement queued beside the saves that fails leaves nothing
// written; one with a callback is refused, since its verdict would come
// after the COMMIT.
func TestSaveAtCommitSendsTheSavesWithTheCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSaving(t)
	id := uuid.Must(uuid.NewV7())
	atCommit := func(with *pgx.Batch) func(ctx context.Context, tx *eventstore.Tx, c *counter) error {
		return func(_ context.Context, tx *eventstore.Tx, c *counter) error {
			tx.SaveAtCommit(with, f.repo.Saving(f.tn, id, c, f.md))
			return nil
		}
	}

	c := &counter{}
	f.sent.Watch(nil)
	res, err := f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		c.add(1)
		tx.SaveAtCommit(nil, f.repo.Saving(f.tn, id, c, f.md))
		require.Len(t, c.Pending(), 1, "saved only once committed")
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, f.sent.Counts().Trips, "BEGIN, the append and COMMIT together")
	require.Len(t, res.Events, 1)
	require.Empty(t, c.Pending())
	require.EqualValues(t, 1, c.LoadedVersion())

	// Another writer between the load and the save: the command reruns.
	require.Equal(t, 2, f.raced(t, id, 100, 10, atCommit(nil)))
	require.Equal(t, 111, f.sum(t, id))

	// A failing statement beside the save: nothing is written.
	_, err = f.pool.Exec(ctx, `CREATE TABLE marks (n int PRIMARY KEY)`)
	require.NoError(t, err)
	addWith := func(with *pgx.Batch) error {
		_, err := f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			mine, err := f.repo.Load(ctx, tx, f.tn, id)
			if err != nil {
				return err
			}
			mine.add(1000)
			return atCommit(with)(ctx, tx, mine)
		})
		return err
	}
	failing := &pgx.Batch{}
	failing.Queue(`INSERT INTO marks VALUES ($1), ($1)`, 1)
	var pgErr *pgconn.PgError
	require.ErrorAs(t, addWith(failing), &pgErr)
	require.Equal(t, "23505", pgErr.Code)
	require.Equal(t, 111, f.sum(t, id))

	// A callback beside the save: refused before anything is sent.
	checked := &pgx.Batch{}
	checked.Queue(`INSERT INTO marks VALUES ($1)`, 2).Exec(func(pgconn.CommandTag) error { return nil })
	require.ErrorContains(t, addWith(checked), "callback")
	require.Equal(t, 111, f.sum(t, id))
	var marks int
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM marks`).Scan(&marks))
	require.Zero(t, marks)
	require.Zero(t, f.pool.Stat().AcquiredConns())
}

// LoadAfter reads the streams it is given after their versions with one
// statement beside the statements queued before it (one a stream past
// eight streams), each stream its own events in version order: a stream
// named twice gets its events after each version, another tenant's stream
// and a stream with no newer events read as empty.
func TestLoadAfterReadsTheStreamsInOneStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newSaving(t)
	// Stream i holds events 1..i+1 (N = 10*i + version).
	ids := make([]uuid.UUID, 10)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
		_, err := f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			c := &counter{}
			for v := 1; v <= i+1; v++ {
				c.add(10*i + v)
			}
			_, err := f.repo.Save(ctx, tx, f.tn, ids[i], c, nil, f.md)
			return err
		})
		require.NoError(t, err)
	}
	stranger := tenant.NewID()
	notes := func(envs []eventstore.Envelope) []int {
		out := []int{}
		for _, e := range envs {
			out = append(out, e.Data.(noted).N)
		}
		return out
	}
	load := func(streams []eventstore.StreamAfter) ([][]int, pgtest.SentCounts) {
		t.Helper()
		var got [][]int
		var counts pgtest.SentCounts
		_, err := f.store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			first := &pgx.Batch{}
			var before int
			first.Queue(`SELECT 1`).QueryRow(func(r pgx.Row) error { return r.Scan(&before) })
			f.sent.Watch(nil)
			envs, err := tx.LoadAfter(ctx, first, streams)
			counts = f.sent.Counts()
			if err != nil {
				return err
			}
			require.Equal(t, 1, before, "the queued statement ran with its callback")
			got = got[:0]
			for _, e := range envs {
				got = append(got, notes(e))
			}
			return nil
		})
		require.NoError(t, err)
		return got, counts
	}

	got, counts := load([]eventstore.StreamAfter{
		{Tenant: f.tn, ID: ids[2], After: 1},
		{Tenant: f.tn, ID: ids[0], After: 0},
		{Tenant: f.tn, ID: ids[2], After: 0},
		{Tenant: stranger, ID: ids[1], After: 0},
		{Tenant: f.tn, ID: ids[3], After: 4},
		{Tenant: f.tn, ID: uuid.Must(uuid.NewV7()), After: 0},
	})
	require.Equal(t, [][]int{{22, 23}, {1}, {21, 22, 23}, {}, {}, {}}, got)
	require.Equal(t, 1, counts.Trips)
	require.Equal(t, 2, counts.Statements, "the queued statement and one read")

	var eight, nine []eventstore.StreamAfter
	var wantEight, wantNine [][]int
	for i := range 9 {
		st := eventstore.StreamAfter{Tenant: f.tn, ID: ids[i], After: int64(i)}
		want := []int{10*i + i + 1}
		if i < 8 {
			eight, wantEight = append(eight, st), append(wantEight, want)
		}
		nine, wantNine = append(nine, st), append(wantNine, want)
	}
	got, counts = load(eight)
	require.Equal(t, wantEight, got)
	require.Equal(t, 2, counts.Statements, "eight streams are one read")
	got, counts = load(nine)
	require.Equal(t, wantNine, got)
	require.Equal(t, 1, counts.Trips)
	require.Equal(t, 10, counts.Statements, "nine streams are read one by one")
}
