package reservations

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/tenant"
)

// Add-to-cart for a variant known to be hot is admitted a few at a time;
// other variants, and hot ones once they cool down, are not held up.
func TestHotAddsAreAdmittedAFewAtATime(t *testing.T) {
	var h Hotness
	h.SetConcurrency(2)
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	shop := tenant.ID{UUID: uuid.Must(uuid.NewV7())}
	hot, cold := SKUKey(shop, "HOT"), SKUKey(shop, "COLD")
	h.Remember(now, hot)
	ctx := context.Background()

	done1, err := h.Admit(ctx, hot, now)
	require.NoError(t, err)
	done2, err := h.Admit(ctx, hot, now)
	require.NoError(t, err)

	third := make(chan func())
	go func() {
		done, err := h.Admit(ctx, hot, now)
		if err != nil {
			close(third)
			return
		}
		third <- done
	}()
	select {
	case <-third:
		t.Fatal("a third hot command ran while two held their turn")
	case <-time.After(50 * time.Millisecond): // the third must still be waiting
	}
	// A cold variant passes at once, however busy the hot one is.
	doneCold, err := h.Admit(ctx, cold, now)
	require.NoError(t, err)
	doneCold()

	done1()
	done3, ok := <-third
	require.True(t, ok, "the third hot command was refused instead of admitted")
	done2()
	done3()

	// A waiter whose request ends leaves the queue with its context's error.
	d1, _ := h.Admit(ctx, hot, now)
	d2, _ := h.Admit(ctx, hot, now)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = h.Admit(cctx, hot, now)
	require.ErrorIs(t, err, context.Canceled)
	var e *errs.Error
	require.False(t, errors.As(err, &e))
	d1()
	d2()

	// A minute after its last hot add the variant is ordinary again.
	later := now.Add(time.Minute + time.Second)
	d1, _ = h.Admit(ctx, hot, later)
	d2, _ = h.Admit(ctx, hot, later)
	d3, err := h.Admit(ctx, hot, later)
	require.NoError(t, err)
	d1()
	d2()
	d3()
}
