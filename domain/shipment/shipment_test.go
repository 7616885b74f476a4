package shipment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/shipment"
)

var now = time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)

func newShipment() *shipment.Shipment {
	order, vendor := uuid.Must(uuid.NewV7()), uuid.New()
	s := shipment.Create(shipment.Created{ID: shipment.IDFor(order, vendor), Order: order, Vendor: vendor,
		Lines:     []shipment.Line{{OrderLine: uuid.New(), Variant: uuid.New(), Quantity: 2, Reservation: uuid.New()}},
		CODAmount: money.MustNew(decimal.NewFromInt(7006), money.JPY)}, now)
	return shipment.FromHistory(s.Pending())
}

func TestIDForIsStableAndDistinct(t *testing.T) {
	t.Parallel()
	o, v1, v2 := uuid.Must(uuid.NewV7()), uuid.New(), uuid.New()
	require.Equal(t, shipment.IDFor(o, v1), shipment.IDFor(o, v1))
	require.NotEqual(t, shipment.IDFor(o, v1), shipment.IDFor(o, v2))
	require.NotEqual(t, shipment.IDFor(o, v1), shipment.IDFor(uuid.Must(uuid.NewV7()), v1))
	id := shipment.IDFor(o, v1)
	require.Equal(t, uuid.Version(7), id.Version())
	require.Equal(t, o[:6], id.UUID[:6], "carries the order's timestamp")
	parsed, err := shipment.ParseID(id.String())
	require.NoError(t, err)
	require.Equal(t, id, parsed)
}

func TestShipDeliver(t *testing.T) {
	t.Parallel()
	s := newShipment()
	require.Equal(t, shipment.StatusPending, s.Status())
	require.ErrorIs(t, s.Deliver(now, 8*24*time.Hour), shipment.ErrNotShipped)
	require.NoError(t, s.Ship(" ヤマト運輸 ", "1234-5678-9012", now))
	require.Equal(t, "ヤマト運輸", s.Carrier())
	require.True(t, s.HasShipped())
	require.NoError(t, s.Ship("ヤマト運輸", "1234-5678-9012", now), "the same hand-over again is a no-op")
	require.ErrorIs(t, s.Ship("佐川急便", "999", now), shipment.ErrAlreadyShipped)
	require.ErrorIs(t, s.Cancel("too late", now), shipment.ErrAlreadyShipped)
	require.NoError(t, s.Deliver(now, 8*24*time.Hour))
	require.NoError(t, s.Deliver(now, 8*24*time.Hour))
	require.Equal(t, shipment.StatusDelivered, s.Status())
	require.Len(t, s.Pending(), 2)
	require.Equal(t, "shipment.shipped.v1", s.Pending()[0].EventName())
	require.Equal(t, "shipment.delivered.v1", s.Pending()[1].EventName())
}

func TestShipValidatesFields(t *testing.T) {
	t.Parallel()
	s := newShipment()
	err := s.Ship("", "   ", now)
	e, ok := errs.As(err)
	require.True(t, ok)
	require.Equal(t, errs.KindInvalid, e.Kind)
	require.Equal(t, []errs.FieldError{{Field: "carrier", Message: "is required"}, {Field: "tracking_no", Message: "is required"}}, e.Fields)
	require.Error(t, s.Ship(strings.Repeat("x", 65), "1", now))
	require.Error(t, s.Ship("yamato", "1\n2", now))
	require.Empty(t, s.Pending())
}

func TestCancelBeforeShipping(t *testing.T) {
	t.Parallel()
	s := newShipment()
	require.NoError(t, s.Cancel("order cancelled", now))
	require.NoError(t, s.Cancel("again", now))
	require.Len(t, s.Pending(), 1)
	require.ErrorIs(t, s.Ship("yamato", "1", now), shipment.ErrCancelled)
	require.ErrorIs(t, s.Deliver(now, 8*24*time.Hour), shipment.ErrCancelled)
	require.Equal(t, shipment.StatusCancelled, s.Status())
}

func TestCancelLinesAndCOD(t *testing.T) {
	t.Parallel()
	created := shipment.Create(shipment.Created{ID: shipment.IDFor(uuid.New(), uuid.New()), Lines: []shipment.Line{
		{OrderLine: uuid.New(), Variant: uuid.New(), Quantity: 2, Reservation: uuid.New()}},
		CODAmount: money.MustNew(decimal.NewFromInt(7006), money.JPY)}, now).Pending()
	s := shipment.FromHistory(created)
	l := s.Lines()[0]
	out := l
	out.Quantity = 1
	require.NoError(t, s.CancelLines([]shipment.Line{out}, "a unit cancelled", now))
	require.Equal(t, int64(1), s.Lines()[0].Quantity)
	yen := func(n int64) money.Money { return money.MustNew(decimal.NewFromInt(n), money.JPY) }
	require.NoError(t, s.ChangeCOD(yen(4000), "total changed", now))
	require.NoError(t, s.ChangeCOD(yen(4000), "the same", now))
	require.True(t, s.CODAmount().Equal(yen(4000)))
	require.Equal(t, []string{"shipment.lines_cancelled.v1", "shipment.cod_amount_changed.v1"},
		[]string{s.Pending()[0].EventName(), s.Pending()[1].EventName()})
	require.Len(t, s.Pending(), 2)

	again := shipment.FromHistory(append(created, s.Pending()...))
	require.Equal(t, s.Lines(), again.Lines())
	require.True(t, again.CODAmount().Equal(yen(4000)))

	require.NoError(t, s.CancelLines([]shipment.Line{out}, "the last unit", now))
	require.Empty(t, s.Lines())
	require.NoError(t, s.Ship("Yamato", "1234", now))
	require.ErrorIs(t, s.CancelLines([]shipment.Line{out}, "x", now), shipment.ErrAlreadyShipped)
	require.ErrorIs(t, s.ChangeCOD(yen(1), "x", now), shipment.ErrAlreadyShipped)
}
