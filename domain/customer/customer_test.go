package customer_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/customer"
	"github.com/honten/honten/domain/personal"
)

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func registered(id customer.ID) customer.Registered {
	return customer.Registered{Customer: id.UUID, Email: "a@example.jp", Name: "山田 太郎", At: now}
}

func TestAddressBook(t *testing.T) {
	t.Parallel()
	id := customer.NewID()
	c := customer.FromHistory([]aggregate.Event{registered(id)})
	a := customer.Address{ID: uuid.Must(uuid.NewV7()), Name: "山田 太郎", Line1: "神南1-1"}
	require.NoError(t, c.AddAddress(a, now))
	require.Equal(t, []aggregate.Event{customer.AddressAdded{Customer: id.UUID, AddressID: a.ID, Address: a, At: now}}, c.Pending())
	require.ErrorIs(t, c.RemoveAddress(uuid.Must(uuid.NewV7()), now), customer.ErrAddressNotFound)
	require.NoError(t, c.RemoveAddress(a.ID, now))
	for range customer.MaxAddresses {
		require.NoError(t, c.AddAddress(customer.Address{ID: uuid.Must(uuid.NewV7())}, now))
	}
	require.ErrorIs(t, c.AddAddress(customer.Address{ID: uuid.Must(uuid.NewV7())}, now), customer.ErrAddressBookFull)
}

func TestForgottenCustomerRefusesChanges(t *testing.T) {
	t.Parallel()
	id := customer.NewID()
	key := uuid.Must(uuid.NewV7())
	c := customer.FromHistory([]aggregate.Event{registered(id), customer.Forgotten{Keys: []uuid.UUID{key}, At: now}})
	require.True(t, c.Forgotten())
	require.ErrorIs(t, c.ChangeProfile("x", "", now), customer.ErrForgotten)
	require.ErrorIs(t, c.AddAddress(customer.Address{}, now), customer.ErrForgotten)
	require.ErrorIs(t, c.VerifyEmail(key, now), customer.ErrForgotten)
	c.Forget(nil, now)
	require.Empty(t, c.Pending(), "forgetting twice records nothing")
}

func TestVerifyEmailOnce(t *testing.T) {
	t.Parallel()
	key := uuid.Must(uuid.NewV7())
	c := customer.FromHistory([]aggregate.Event{registered(customer.NewID())})
	require.NoError(t, c.VerifyEmail(key, now))
	require.NoError(t, c.VerifyEmail(key, now))
	require.Len(t, c.Pending(), 1)
	require.True(t, c.Verified())
}

// Every personal field of every customer event is redacted.
func TestRedactedHidesEveryPersonalField(t *testing.T) {
	t.Parallel()
	id := customer.NewID()
	x := personal.Erased
	r := registered(id).Redacted().(customer.Registered)
	require.Equal(t, customer.Registered{Customer: id.UUID, Email: x, Name: x, At: now}, r)
	a := customer.AddressAdded{Customer: id.UUID, AddressID: uuid.Must(uuid.NewV7()), Address: customer.Address{Name: "n", Phone: "p", City: "c", Line1: "l"}}
	ra := a.Redacted().(customer.AddressAdded)
	require.Equal(t, customer.Address{ID: a.AddressID, Name: x, Phone: x, PostalCode: x, Prefecture: x, City: x, Line1: x, Line2: x}, ra.Address)
	require.Equal(t, []string{"address"}, a.PersonalFields())
	require.Equal(t, personal.Subject{Customer: id.UUID}, a.PersonalSubject())
}
