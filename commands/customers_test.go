package commands_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

func (b *signInBundle) shop(t *testing.T, code string) tenant.ID {
	t.Helper()
	created, _, err := b.cmds.CreateTenant(context.Background(), commands.CreateTenant{By: commands.By{Actor: "cli"}, Code: code, Name: code, Type: "single_brand"})
	require.NoError(t, err)
	return created.Tenant
}

// Many sign-ups with one e-mail at once, in any case: exactly one account,
// one customer stream; the others are told the e-mail is taken.
func TestCustomerSignUpsWithOneEmailOpenOneAccount(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 8, 30*time.Second)
	shop := b.shop(t, "signup-race")
	ctx := context.Background()
	const n = 16
	start := make(chan struct{})
	var wg sync.WaitGroup
	errsOut := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			email := "race@example.jp"
			if i%2 == 1 {
				email = "RACE@example.jp"
			}
			_, _, errsOut[i] = b.cmds.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: shop, By: commands.By{Actor: "test"},
				Email: email, Password: "correct horse battery", Name: fmt.Sprint("客 ", i)})
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errsOut {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, commands.ErrCustomerEmailTaken)
	}
	require.Equal(t, 1, ok)
	var accounts, streams int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM customer_accounts WHERE tenant_id = $1`, shop).Scan(&accounts))
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(DISTINCT stream_id) FROM events WHERE tenant_id = $1 AND stream_type = 'customer'`, shop).Scan(&streams))
	require.Equal(t, 1, accounts)
	require.Equal(t, 1, streams, "a refused sign-up appends nothing")
}

// Customer sign-in is throttled like staff sign-in: the sixth wrong
// password from one client within the window is refused with a
// Retry-After, even with the right password; the throttle stores no e-mail.
func TestCustomerSignInIsThrottled(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 4, 30*time.Second)
	shop := b.shop(t, "signin-throttle")
	ctx := context.Background()
	_, _, err := b.cmds.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: shop, By: commands.By{Actor: "test"},
		Email: "guess@example.jp", Password: "correct horse battery", Name: "推測 太郎"})
	require.NoError(t, err)
	sign := func(pw string) error {
		_, err := b.cmds.SignInCustomer(ctx, commands.CustomerSignIn{Tenant: shop, Email: "guess@example.jp", Password: pw, Client: "10.0.0.9"})
		return err
	}
	_, err = b.cmds.SignInCustomer(ctx, commands.CustomerSignIn{Tenant: shop, Email: "nobody@example.jp", Password: "whatever it is", Client: "10.0.0.8"})
	require.ErrorIs(t, err, commands.ErrBadCredentials, "an unknown e-mail reads like a wrong password")
	for i := range 4 {
		require.ErrorIs(t, sign(fmt.Sprint("wrong ", i)), commands.ErrBadCredentials)
	}
	require.ErrorIs(t, sign("wrong again"), commands.ErrBadCredentials)
	err = sign("correct horse battery")
	require.ErrorIs(t, err, commands.ErrTooManyAttempts)
	require.Greater(t, retryAfter(t, err), time.Duration(0))
	var leaked int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM login_throttle WHERE key LIKE '%guess@%'`).Scan(&leaked))
	require.Zero(t, leaked)

	b.clock.Advance(16 * time.Minute)
	s, err := b.cmds.SignInCustomer(ctx, commands.CustomerSignIn{Tenant: shop, Email: "GUESS@example.jp", Password: "correct horse battery", Client: "10.0.0.9"})
	require.NoError(t, err)
	id, err := b.cmds.AuthenticateCustomer(ctx, shop, s.Token)
	require.NoError(t, err)
	require.Equal(t, s.Customer, id)
	_, err = b.cmds.AuthenticateCustomer(ctx, tenant.NewID(), s.Token)
	require.ErrorIs(t, err, commands.ErrCustomerSession, "a session is good in its own shop only")
}

// Forgetting races writers sealing under the same key: they serialise (on
// the customer's stream and the key row), so every event sealed under the
// key was appended before the erasure event, and it reads as erased.
func TestForgetNeverInterleavesWithASealingWriter(t *testing.T) {
	t.Parallel()
	b := setupSignIn(t, 4, 30*time.Second)
	shop := b.shop(t, "forget-race")
	ctx := context.Background()
	reg, _, err := b.cmds.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: shop, By: commands.By{Actor: "test"},
		Email: "race.forget@example.jp", Password: "correct horse battery", Name: "競争 花子"})
	require.NoError(t, err)
	const n = 12
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]error, n+1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, results[i] = b.cmds.AddCustomerAddress(ctx, commands.AddCustomerAddress{Tenant: shop, By: commands.By{Actor: "test"}, Customer: reg.ID,
				Name: "競争 花子", Phone: "0312345678", Address: struct{ PostalCode, Prefecture, City, Line1, Line2 string }{"150-0041", "東京都", "渋谷区", fmt.Sprint("神南", i+1), ""}})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		_, _, results[n] = b.cmds.ForgetCustomer(ctx, shop, commands.By{Actor: "test"}, reg.ID)
	}()
	close(start)
	wg.Wait()
	require.NoError(t, results[n])
	for _, err := range results[:n] {
		if err != nil {
			// Refused once forgotten, or out of the bounded reruns under contention.
			require.True(t, errors.Is(err, customer.ErrNotFound) || errors.Is(err, eventstore.ErrVersionConflict), "%v", err)
		}
	}
	// Every address event was appended before the erasure event, in the
	// global order, and reads as erased now.
	var after int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM events a, events f
WHERE a.tenant_id = $1 AND f.tenant_id = $1 AND a.event_type = 'customer.address_added.v1' AND f.event_type = 'personal_data.erased.v1'
  AND (a.tx_id, a.global_position) > (f.tx_id, f.global_position)`, shop).Scan(&after))
	require.Zero(t, after)
	envs, err := b.cmds.Store().Load(ctx, b.pool, shop, reg.ID.UUID)
	require.NoError(t, err)
	for _, e := range envs {
		if a, ok := e.Data.(customer.AddressAdded); ok {
			require.Equal(t, "[erased]", a.Address.Line1)
			require.NotEqual(t, uuid.Nil, a.AddressID)
		}
	}
}
