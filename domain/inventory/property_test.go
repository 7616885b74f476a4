package inventory_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/aggregate"
	"github.com/honten/honten/domain/inventory"
)

// TestRandomOperationsKeepTheInvariant applies random sequences of every
// operation, reloading the item from its history now and then as the
// command side does, and checks after each step that no location ever has
// negative availability or more reserved than on hand, that every event
// carries the total available, and that the history reproduces the state.
func TestRandomOperationsKeepTheInvariant(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			runRandom(t, rand.New(rand.NewPCG(seed, 0x1f2e3d4c)), 400)
		})
	}
}

func runRandom(t *testing.T, rng *rand.Rand, steps int) {
	t.Helper()
	locs := []uuid.UUID{locA, locB, uuid.MustParse("0195f000-0000-7000-8000-00000000000c")}
	orders := []uuid.UUID{order, uuid.MustParse("0195f000-0000-7000-8000-0000000000f2"), uuid.Nil}
	var (
		it    = inventory.NewItem()
		hist  []aggregate.Event
		reqs  []inventory.Requested
		now   = t0
		qty   = func() int64 { return rng.Int64N(12) - 1 } // -1..10
		pick  = func(xs []uuid.UUID) uuid.UUID { return xs[rng.IntN(len(xs))] }
		pickR = func() inventory.ReservationID {
			if len(reqs) == 0 || rng.IntN(10) == 0 {
				return inventory.NewReservationID()
			}
			return reqs[rng.IntN(len(reqs))].Reservation
		}
	)
	for step := range steps {
		now = now.Add(time.Duration(rng.IntN(240)) * time.Second)
		before := len(it.Pending())
		var op string
		switch rng.IntN(9) {
		case 0, 1:
			op = "adjust"
			var set *int64
			if rng.IntN(3) == 0 {
				set = ptr(rng.Int64N(15))
			}
			err := it.Adjust(pick(locs), rng.Int64N(21)-8, set, "random", now)
			if err != nil {
				require.ErrorIs(t, err, inventory.ErrNegativeStock)
			}
		case 2, 3:
			op = "reserve"
			var req inventory.Requested
			if len(reqs) > 0 && rng.IntN(6) == 0 {
				req = reqs[rng.IntN(len(reqs))] // a redelivery
			} else {
				req = request(qty())
				reqs = append(reqs, req)
			}
			cands := append([]uuid.UUID(nil), locs...)
			rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
			wasDecided := it.Decided(req.Reservation)
			it.Reserve(req, cands[:rng.IntN(len(cands)+1)], time.Duration(1+rng.IntN(30))*time.Minute, now)
			if wasDecided {
				require.Len(t, it.Pending(), before, "step %d: redelivery decided twice", step)
			} else {
				require.Len(t, it.Pending(), before+1, "step %d: one decision per request", step)
				require.True(t, it.Decided(req.Reservation))
			}
		case 4:
			op = "release"
			it.Release(pickR(), "random", now)
		case 5:
			op = "expire"
			it.ExpireDue(now)
			for _, h := range it.Holds() {
				require.True(t, h.Order != uuid.Nil || now.Before(h.ExpiresAt), "step %d: a due hold survived", step)
			}
		case 6:
			op = "commit"
			err := it.Commit(pickR(), pick(orders), now)
			if err != nil {
				require.True(t, errorIsOneOf(err, inventory.ErrUnknownHold, inventory.ErrNoOrder), "step %d: %v", step, err)
			}
		case 7:
			op = "release allocation"
			it.ReleaseAllocation(pickR(), pick(orders), "random", now)
		case 8:
			op = "fulfil"
			it.Fulfil(pickR(), pick(orders), now)
		}

		// Every new event carries the total available after it.
		pending := it.Pending()
		if len(pending) > before {
			require.Equal(t, it.TotalAvailable(), available(t, pending[len(pending)-1]), "step %d (%s)", step, op)
		}
		var total int64
		for _, loc := range locs {
			onHand, reserved := it.OnHand(loc), it.Reserved(loc)
			require.GreaterOrEqual(t, onHand, int64(0), "step %d (%s): on hand at %s", step, op, loc)
			require.LessOrEqual(t, reserved, onHand, "step %d (%s): reserved above on hand at %s", step, op, loc)
			require.GreaterOrEqual(t, it.Available(loc), int64(0), "step %d (%s): available at %s", step, op, loc)
			total += it.Available(loc)
		}
		require.Equal(t, total, it.TotalAvailable())
		var held int64
		for _, h := range it.Holds() {
			require.Positive(t, h.Quantity)
			held += h.Quantity
		}
		var reserved int64
		for _, loc := range locs {
			reserved += it.Reserved(loc)
		}
		require.Equal(t, held, reserved, "step %d: the reserved count matches the holds", step)

		// Now and then, save and reload as a command would.
		if rng.IntN(7) == 0 {
			hist = append(hist, it.Pending()...)
			it.Saved()
			reloaded := inventory.FromHistory(hist)
			requireSameState(t, it, reloaded)
			it = reloaded
		}
	}
	hist = append(hist, it.Pending()...)
	requireSameState(t, it, inventory.FromHistory(hist))
}

func errorIsOneOf(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
