package eventstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/pgtest"
)

// signedUp carries personal data: its e-mail and name are sealed.
type signedUp struct {
	Who   uuid.UUID `json:"who"`
	Email string    `json:"email"`
	Name  string    `json:"name"`
	Plan  string    `json:"plan"`
}

func (signedUp) EventName() string { return "test.signed_up.v1" }
func (e signedUp) PersonalSubject() personal.Subject {
	return personal.Subject{Customer: e.Who, Email: e.Email}
}
func (signedUp) PersonalFields() []string { return []string{"email", "name"} }
func (e signedUp) Redacted() aggregate.Event {
	e.Email, e.Name = personal.Erased, personal.Erased
	return e
}

// Personal fields are stored sealed, read back plain by Load and by
// Unseal, and read as the marker once the key is destroyed; the other
// fields never change and nothing in events is updated.
func TestPersonalFieldsAreSealedAndShredded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(signedUp{})
	store := eventstore.New(pool, reg)
	tn := tenant.NewID()
	who, guest := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	md := eventstore.Metadata{Tenant: tn, Actor: "test"}
	appendOne := func(stream uuid.UUID, e signedUp) eventstore.Envelope {
		var env eventstore.Envelope
		_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
			envs, err := tx.Append(ctx, eventstore.Stream{Tenant: tn, Type: "test", ID: stream}, 0, []eventstore.Event{e}, md)
			if err == nil {
				env = envs[0]
			}
			return err
		})
		require.NoError(t, err)
		return env
	}
	a := appendOne(who, signedUp{Who: who, Email: "a@example.jp", Name: "山田 太郎", Plan: "gold"})
	b := appendOne(guest, signedUp{Email: "Guest@Example.jp", Name: "客 次郎", Plan: "free"})
	require.NotEqual(t, uuid.Nil, a.PersonalKey)
	require.NotEqual(t, a.PersonalKey, b.PersonalKey, "a key per subject")

	var raw string
	require.NoError(t, pool.QueryRow(ctx, `SELECT payload::text FROM events WHERE event_id = $1`, a.EventID).Scan(&raw))
	require.NotContains(t, raw, "a@example.jp")
	require.NotContains(t, raw, "山田")
	require.Contains(t, raw, `"plan": "gold"`)
	require.Contains(t, raw, "pii:v1:"+a.PersonalKey.String())

	envs, err := store.Load(ctx, pool, tn, who)
	require.NoError(t, err)
	require.Equal(t, signedUp{Who: who, Email: "a@example.jp", Name: "山田 太郎", Plan: "gold"}, envs[0].Data)

	var feed []eventstore.Envelope
	require.Eventually(t, func() bool { // the feed stops below the cluster's oldest running transaction
		feed, err = eventstore.ReadFeed(ctx, pool, eventstore.Position{}, 10, eventstore.FeedFilter{Tenant: tn})
		require.NoError(t, err)
		return len(feed) == 2
	}, 30*time.Second, 5*time.Millisecond)
	// Without unsealing, a decode reads the marker rather than failing.
	ev, err := reg.Decode(feed[0])
	require.NoError(t, err)
	require.Equal(t, personal.Erased, ev.(signedUp).Email)
	require.NoError(t, reg.Unseal(ctx, pool, feed))
	require.Equal(t, a.PersonalKey, feed[0].PersonalKey)
	ev, err = reg.Decode(feed[1])
	require.NoError(t, err)
	require.Equal(t, "Guest@Example.jp", ev.(signedUp).Email)

	// A guest's e-mail finds its key whatever its case; destroy it.
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		keys, err := tx.LivePersonalKeys(ctx, tn, personal.Subject{Email: "guest@example.JP"})
		require.Equal(t, []uuid.UUID{b.PersonalKey}, keys)
		if err != nil {
			return err
		}
		n, err := tx.ErasePersonalKeys(ctx, tn, keys)
		require.Equal(t, int64(1), n)
		return err
	})
	require.NoError(t, err)
	var subject *string
	var key []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT subject, key FROM personal_keys WHERE id = $1`, b.PersonalKey).Scan(&subject, &key))
	require.Nil(t, subject, "nothing links the destroyed key to the person")
	require.Nil(t, key)

	envs, err = store.Load(ctx, pool, tn, guest)
	require.NoError(t, err)
	require.Equal(t, signedUp{Email: personal.Erased, Name: personal.Erased, Plan: "free"}, envs[0].Data)
	envs, err = store.Load(ctx, pool, tn, who)
	require.NoError(t, err)
	require.Equal(t, "山田 太郎", envs[0].Data.(signedUp).Name, "another subject's key is untouched")

	// The same e-mail ordering again gets a new key.
	c := appendOne(uuid.Must(uuid.NewV7()), signedUp{Email: "guest@example.jp", Name: "客 次郎", Plan: "free"})
	require.NotEqual(t, b.PersonalKey, c.PersonalKey)
	require.False(t, strings.Contains(string(c.Payload), "客"))
}

// Many writers sealing for one new guest e-mail at once (concurrent
// checkouts): one key row, and every event sealed under it.
func TestConcurrentWritersOfOneSubjectShareOneKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(signedUp{})
	store := eventstore.New(pool, reg)
	tn := tenant.NewID()
	const n = 24
	start := make(chan struct{})
	keys := make([]uuid.UUID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
				envs, err := tx.Append(ctx, eventstore.Stream{Tenant: tn, Type: "test", ID: uuid.Must(uuid.NewV7())}, 0,
					[]eventstore.Event{signedUp{Email: "same.guest@example.jp", Name: "同じ 客", Plan: "free"}}, eventstore.Metadata{Tenant: tn, Actor: "test"})
				if err == nil {
					keys[i] = envs[0].PersonalKey
				}
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, keys[0], keys[i])
	}
	var rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM personal_keys WHERE tenant_id = $1`, tn).Scan(&rows))
	require.Equal(t, 1, rows)
}

// Unseal reads the keys of a few subjects with a statement listing each
// key and of many with one array: both read every live key, and neither
// an erased one.
func TestUnsealReadsTheKeysOfFewAndManySubjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	reg := eventstore.NewRegistry()
	reg.Register(signedUp{})
	store := eventstore.New(pool, reg)
	tn := tenant.NewID()
	md := eventstore.Metadata{Tenant: tn, Actor: "test"}
	const n = 12
	var erased uuid.UUID
	_, err := store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		for i := range n {
			who := uuid.Must(uuid.NewV7())
			e := signedUp{Who: who, Email: fmt.Sprintf("c%d@example.jp", i), Name: "客", Plan: "free"}
			envs, err := tx.Append(ctx, eventstore.Stream{Tenant: tn, Type: "test", ID: who}, 0, []eventstore.Event{e}, md)
			if err != nil {
				return err
			}
			if i == 1 {
				erased = envs[0].PersonalKey
			}
		}
		return nil
	})
	require.NoError(t, err)
	_, err = store.Do(ctx, func(ctx context.Context, tx *eventstore.Tx) error {
		_, err := tx.ErasePersonalKeys(ctx, tn, []uuid.UUID{erased})
		return err
	})
	require.NoError(t, err)

	var feed []eventstore.Envelope
	require.Eventually(t, func() bool { // the feed stops below the cluster's oldest running transaction
		feed, err = eventstore.ReadFeed(ctx, pool, eventstore.Position{}, n, eventstore.FeedFilter{Tenant: tn})
		require.NoError(t, err)
		return len(feed) == n
	}, 30*time.Second, 5*time.Millisecond)
	for _, size := range []int{1, 3, n} {
		envs := slices.Clone(feed[:size])
		require.NoError(t, reg.Unseal(ctx, pool, envs), "%d subjects", size)
		for i, env := range envs {
			ev, err := reg.Decode(env)
			require.NoError(t, err)
			want := fmt.Sprintf("c%d@example.jp", i)
			if i == 1 {
				want = personal.Erased
			}
			require.Equal(t, want, ev.(signedUp).Email, "%d subjects, event %d", size, i)
		}
	}
}
