package customerviews_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/personal"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/internal/app"
	"github.com/honten/honten/internal/pgtest"
	"github.com/honten/honten/internal/projtest"
	"github.com/honten/honten/projections"
	"github.com/honten/honten/projections/customerviews"
)

var tables = []string{"customers", "customer_addresses"}

// A customer's life — sign-up, profile, addresses, e-mail verified — then
// forgetting: the rows follow, replaying twice (and applying the log again
// over the rows) changes nothing, and after forgetting a rebuild shows the
// marker the live model shows.
func TestCustomerViewsFollowTheCustomerAndForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	reg := app.Registry()
	st := eventstore.New(pool, reg)
	cmds := commands.New(st, nil)
	p := customerviews.Projector{Registry: reg}
	runner := projtest.Run(t, pool, p)
	by := commands.By{Actor: "test"}
	created, _, err := cmds.CreateTenant(ctx, commands.CreateTenant{By: by, Code: "cv", Name: "cv", Type: "single_brand"})
	require.NoError(t, err)
	tn := created.Tenant
	wait := func() {
		t.Helper()
		head, err := eventstore.Head(ctx, pool)
		require.NoError(t, err)
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, runner.WaitFor(wctx, head))
	}

	reg1, _, err := cmds.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: tn, By: by, Email: "sachiko@example.jp", Password: "correct horse battery", Name: "佐藤 幸子"})
	require.NoError(t, err)
	other, _, err := cmds.RegisterCustomer(ctx, commands.RegisterCustomer{Tenant: tn, By: by, Email: "ken@example.jp", Password: "correct horse battery", Name: "高橋 健"})
	require.NoError(t, err)
	phone := "03-1234-5678"
	_, err = cmds.UpdateCustomerProfile(ctx, commands.UpdateCustomerProfile{Tenant: tn, By: by, Customer: reg1.ID, Phone: &phone})
	require.NoError(t, err)
	addr := func(line1 string) commands.AddCustomerAddress {
		return commands.AddCustomerAddress{Tenant: tn, By: by, Customer: reg1.ID, Name: "佐藤 幸子", Phone: phone,
			Address: struct{ PostalCode, Prefecture, City, Line1, Line2 string }{"060-0001", "北海道", "札幌市中央区", line1, ""}}
	}
	home, _, err := cmds.AddCustomerAddress(ctx, addr("北一条西1-1"))
	require.NoError(t, err)
	work, _, err := cmds.AddCustomerAddress(ctx, addr("北二条西2-2"))
	require.NoError(t, err)
	_, err = cmds.RemoveCustomerAddress(ctx, tn, by, reg1.ID, work.ID)
	require.NoError(t, err)
	var body string
	require.NoError(t, pool.QueryRow(ctx, `SELECT text_body FROM email_outbox WHERE customer_id = $1 AND template = 'customer_verify_email'`, reg1.ID).Scan(&body))
	_, err = cmds.VerifyCustomerEmail(ctx, tn, by, regexp.MustCompile(`hcv_[A-Za-z0-9_-]+`).FindString(body))
	require.NoError(t, err)
	wait()

	c, err := customerviews.Get(ctx, pool, tn, reg1.ID.UUID)
	require.NoError(t, err)
	require.Equal(t, "sachiko@example.jp", c.Email)
	require.Equal(t, "0312345678", c.Phone)
	require.True(t, c.EmailVerified)
	as, err := customerviews.Addresses(ctx, pool, tn, reg1.ID.UUID)
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, home.ID, as[0].ID)
	require.Equal(t, "北一条西1-1", as[0].Line1)
	l, err := customerviews.List(ctx, pool, tn, "佐藤", projections.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)

	live := projtest.Dump(t, pool, tables...)
	require.NoError(t, runner.Rebuild(ctx, "customer_views", nil))
	require.Equal(t, live, projtest.Dump(t, pool, tables...))
	require.NoError(t, runner.Rebuild(ctx, "customer_views", nil))
	require.Equal(t, live, projtest.Dump(t, pool, tables...))
	require.Equal(t, live, projtest.Dump(t, projtest.Reapply(t, pool, p), tables...))

	_, _, err = cmds.ForgetCustomer(ctx, tn, by, reg1.ID)
	require.NoError(t, err)
	wait()
	c, err = customerviews.Get(ctx, pool, tn, reg1.ID.UUID)
	require.NoError(t, err)
	require.Equal(t, customerviews.Customer{ID: c.ID, Email: personal.Erased, Name: personal.Erased, Phone: personal.Erased, EmailVerified: true,
		Status: "forgotten", CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version}, c)
	as, err = customerviews.Addresses(ctx, pool, tn, reg1.ID.UUID)
	require.NoError(t, err)
	require.Empty(t, as)
	k, err := customerviews.Get(ctx, pool, tn, other.ID.UUID)
	require.NoError(t, err)
	require.Equal(t, "高橋 健", k.Name, "another customer is untouched")

	forgotten := projtest.Dump(t, pool, tables...)
	require.NotContains(t, forgotten, "佐藤")
	require.NoError(t, runner.Rebuild(ctx, "customer_views", nil))
	require.Equal(t, forgotten, projtest.Dump(t, pool, tables...))
}
