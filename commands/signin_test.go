package commands_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
)

type signInBundle struct {
	cmds  *commands.Service
	clock *orderClock
	pool  eventstore.Querier
}

// setupSignIn gives a service on a test clock with hashing bounded to
// concurrency slots.
func setupSignIn(t *testing.T, concurrency int, wait time.Duration) *signInBundle {
	t.Helper()
	pool := pgtest.New(t)
	st := eventstore.New(pool, app.Registry())
	c := &orderClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	cmds := commands.New(st, c.Now)
	cmds.SetHashConcurrency(concurrency, wait)
	return &signInBundle{cmds: cmds, clock: c, pool: pool}
}

// account creates a shop with an owner of that e-mail and password.
func (b *signInBundle) account(t *testing.T, code, email, password string) tenant.ID {
	t.Helper()
	ctx := context.Background()
	by := commands.By{Actor: "cli"}
	created, _, err := b.cmds.CreateTenant(ctx, commands.CreateTenant{By: by, Code: code, Name: code, Type: "single_brand"})
	require.NoError(t, err)
	_, _, err = b.cmds.InviteStaff(ctx, commands.InviteStaff{Tenant: created.Tenant, By: by, ByRole: "owner",
		Email: email, Name: "owner", Role: "owner", Password: password})
	require.NoError(t, err)
	return created.Tenant
}

func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var ra errs.Retryable
	require.True(t, errors.As(err, &ra), "%v has no Retry-After", err)
	return ra.RetryAfter()
}

// 1,000 parallel guesses at one account: the heap stays bounded (hashing
// runs in a few slots; the rest wait or get 429) and no more guesses are
// checked than the throttle allows — from one client 5, from a thousand
// clients 10 (then each further one waits for the one before).
func TestThousandParallelSignInsStayBoundedAndCounted(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 2, time.Minute)
	shop := b.account(t, "hammer", "owner@hammer.example.jp", "the right password")
	ctx := context.Background()

	run := func(client func(i int) string, email func(i int) string) (guesses, limited int, peak uint64) {
		var base runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&base)
		var peakHeap atomic.Uint64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peakHeap.Load() {
					peakHeap.Store(m.HeapAlloc)
				}
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		start := make(chan struct{})
		var wg sync.WaitGroup
		var bad, throttled, other atomic.Int64
		var firstOther atomic.Value
		for i := range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := b.cmds.SignIn(ctx, commands.SignIn{Tenant: shop, Email: email(i), Password: fmt.Sprint("guess ", i), Client: client(i)})
				switch {
				case errors.Is(err, commands.ErrBadCredentials):
					bad.Add(1)
				case errors.Is(err, commands.ErrTooManyAttempts), errors.Is(err, commands.ErrSignInBusy):
					throttled.Add(1)
				default:
					other.Add(1)
					firstOther.CompareAndSwap(nil, fmt.Sprint(err))
				}
			}()
		}
		close(start)
		wg.Wait()
		close(stop)
		<-sampled
		require.Zero(t, other.Load(), "unexpected answer: %v", firstOther.Load())
		growth := uint64(0)
		if p := peakHeap.Load(); p > base.HeapAlloc {
			growth = p - base.HeapAlloc
		}
		return int(bad.Load()), int(throttled.Load()), growth
	}

	// One client: 5 guesses, 995 refused before hashing.
	guesses, limited, _ := run(func(int) string { return "198.51.100.1" }, func(int) string { return "owner@hammer.example.jp" })
	require.Equal(t, 5, guesses)
	require.Equal(t, 995, limited)

	// A thousand clients at one account (another e-mail: counting does not
	// depend on whether it exists): the account allows 10 in the window; the
	// clock does not move, so every later one waits.
	guesses, limited, _ = run(func(i int) string { return fmt.Sprint("203.0.113.", i%250, "-", i) }, func(int) string { return "staff@hammer.example.jp" })
	require.Equal(t, 10, guesses)
	require.Equal(t, 1000, guesses+limited)

	// A thousand unknown e-mails from a thousand clients: nothing throttles
	// them, so every one hashes — two at a time, each waiting at most 3 s
	// for a slot. Unbounded, that is 1,000 × 19 MiB at once; bounded, the
	// heap grows by a few slots' worth.
	b.cmds.SetHashConcurrency(2, 3*time.Second)
	guesses, limited, peak := run(func(i int) string { return fmt.Sprint("192.0.2.", i%250, "-", i) }, func(i int) string { return fmt.Sprintf("nobody%d@hammer.example.jp", i) })
	require.Equal(t, 1000, guesses+limited)
	require.Positive(t, guesses)
	t.Logf("unknown e-mails: %d checked, %d refused, peak heap growth %d MiB", guesses, limited, peak>>20)
	require.Less(t, peak, uint64(256<<20), "peak heap growth %d MiB", peak>>20)
}

// A hashing queue that stays full answers ErrSignInBusy (429) with a
// Retry-After, and gives the attempt back: it was not a guess.
func TestSignInBusyIsRefusedAndNotCounted(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 1, 50*time.Millisecond)
	shop := b.account(t, "busy", "owner@busy.example.jp", "the right password")
	ctx := context.Background()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var busy atomic.Int64
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := b.cmds.SignIn(ctx, commands.SignIn{Tenant: shop, Email: fmt.Sprintf("x%d@busy.example.jp", i), Password: "whatever it is", Client: fmt.Sprint("c", i)})
			if errors.Is(err, commands.ErrSignInBusy) {
				require.Equal(t, time.Second, retryAfter(t, err))
				busy.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Positive(t, busy.Load(), "40 hashes cannot all run within 50 ms in one slot")
	// Refused attempts were given back: the per-client rows count only the
	// checked ones.
	var counted int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(sum(failures), 0) FROM login_throttle WHERE key LIKE 'client:c%'`).Scan(&counted))
	require.Equal(t, 40-int(busy.Load()), counted)
}

// Guessing from one client does not lock the owner out from another; the
// account as a whole slows down (at most a minute per attempt), it never
// locks for 15 minutes.
func TestLockoutIsPerClientWithAnAccountSlowDown(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 0, 0)
	shop := b.account(t, "lock", "owner@lock.example.jp", "the right password")
	ctx := context.Background()
	sign := func(client, pw string) error {
		_, err := b.cmds.SignIn(ctx, commands.SignIn{Tenant: shop, Email: "owner@lock.example.jp", Password: pw, Client: client})
		return err
	}
	for i := range 5 {
		require.ErrorIs(t, sign("attacker", fmt.Sprint("wrong ", i)), commands.ErrBadCredentials)
	}
	err := sign("attacker", "the right password")
	require.ErrorIs(t, err, commands.ErrTooManyAttempts, "this client is locked out of this account")
	require.Equal(t, 15*time.Minute, retryAfter(t, err))
	require.NoError(t, sign("owner-laptop", "the right password"), "another client signs in at once")

	// Many clients guessing: past 10 attempts in the window each attempt
	// waits for the one before, 1 s, 2 s, 4 s … never more than a minute.
	for i := range 5 {
		require.ErrorIs(t, sign(fmt.Sprint("bot", i), "wrong"), commands.ErrBadCredentials)
	}
	// 5 (attacker) + 1 (owner, given back) + 5 (bots) = 10 attempts counted: the 10th set a 1 s wait.
	err = sign("bot-next", "wrong")
	require.ErrorIs(t, err, commands.ErrTooManyAttempts)
	require.Equal(t, time.Second, retryAfter(t, err))
	for _, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute} {
		b.clock.Advance(retryAfter(t, sign("bot-x", "wrong")))
		require.ErrorIs(t, sign(fmt.Sprint("bot-", wait), "wrong"), commands.ErrBadCredentials)
		err = sign("owner-phone", "the right password")
		require.ErrorIs(t, err, commands.ErrTooManyAttempts)
		require.Equal(t, wait, retryAfter(t, err), "the wait doubles up to a minute")
	}
	// The right password gets through once the short wait is over.
	b.clock.Advance(retryAfter(t, sign("owner-phone", "the right password")))
	require.NoError(t, sign("owner-phone", "the right password"))
}

// Without a named shop, the answer does not tell whether an e-mail exists,
// or in how many shops: a wrong password is 401 whatever the e-mail.
func TestSignInWithoutShopRevealsNoEmails(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 0, 0)
	b.account(t, "east", "same@shops.example.jp", "password of east")
	west := b.account(t, "west", "same@shops.example.jp", "password of west")
	b.account(t, "north", "twice@shops.example.jp", "one shared password")
	b.account(t, "south", "twice@shops.example.jp", "one shared password")
	ctx := context.Background()
	sign := func(email, pw string) (commands.Session, error) {
		return b.cmds.SignIn(ctx, commands.SignIn{Email: email, Password: pw, Client: "client-" + pw})
	}
	_, err := sign("same@shops.example.jp", "not the password")
	require.ErrorIs(t, err, commands.ErrBadCredentials, "several shops, wrong password: as for anyone")
	_, err = sign("nobody@shops.example.jp", "not the password 2")
	require.ErrorIs(t, err, commands.ErrBadCredentials)
	s, err := sign("same@shops.example.jp", "password of west")
	require.NoError(t, err, "the password picks the shop")
	require.Equal(t, west, s.Principal.Tenant)
	_, err = sign("twice@shops.example.jp", "one shared password")
	require.ErrorIs(t, err, commands.ErrTenantAmbiguous, "only one who knows the password learns there are several")
}

// The purge job deletes expired sessions and finished throttle rows, and
// keeps live ones.
func TestSessionPurgerDeletesExpiredRows(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 0, 0)
	shop := b.account(t, "purge", "owner@purge.example.jp", "the right password")
	ctx := context.Background()
	_, err := b.cmds.SignIn(ctx, commands.SignIn{Tenant: shop, Email: "owner@purge.example.jp", Password: "the right password", Client: "a"})
	require.NoError(t, err)
	_, err = b.cmds.SignIn(ctx, commands.SignIn{Tenant: shop, Email: "nobody@purge.example.jp", Password: "wrong password", Client: "b"})
	require.ErrorIs(t, err, commands.ErrBadCredentials)
	b.clock.Advance(commands.SessionTTL + time.Minute)
	live, err := b.cmds.SignIn(ctx, commands.SignIn{Tenant: shop, Email: "owner@purge.example.jp", Password: "the right password", Client: "a"})
	require.NoError(t, err)

	count := func(q string) int {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, q).Scan(&n))
		return n
	}
	require.Equal(t, 2, count(`SELECT count(*) FROM staff_sessions`))
	require.Positive(t, count(`SELECT count(*) FROM login_throttle WHERE key LIKE '%nobody%'`))

	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	purged := make(chan [2]int64, 1)
	p := &commands.SessionPurger{Commands: b.cmds, Every: time.Hour, OnPurgeFunc: func(s, th int64) { purged <- [2]int64{s, th} }}
	done := make(chan struct{})
	go func() { defer close(done); p.Run(pctx) }()
	select {
	case got := <-purged:
		require.Equal(t, int64(1), got[0], "one expired session")
		require.Positive(t, got[1])
	case <-time.After(30 * time.Second):
		t.Fatal("the purger did not run")
	}
	cancel()
	<-done
	require.Equal(t, 1, count(`SELECT count(*) FROM staff_sessions`))
	require.Zero(t, count(`SELECT count(*) FROM login_throttle WHERE key LIKE '%nobody%'`))
	_, err = b.cmds.Authenticate(ctx, live.Token)
	require.NoError(t, err, "the live session stays")
}
