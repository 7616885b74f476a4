package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/commands"
	"github.com/honten/honten/domain/errs"
	"github.com/honten/honten/domain/money"
	"github.com/honten/honten/domain/shipment"
	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/domain/tenant"
	"github.com/honten/honten/eventstore"
)

// RemittanceCollectionRefused is the status of a line whose collection the
// payment refused (e.g. collected before with another amount).
const RemittanceCollectionRefused = "collection_refused"

type shipmentRow struct {
	shipment, order uuid.UUID
	status, method  string
	cod             money.Money
}

func findShipment(ctx context.Context, q eventstore.Querier, t tenant.ID, tracking string) (*shipmentRow, error) {
	const query = `SELECT s.shipment_id, s.order_id, s.status, o.payment_method, s.cod_amount::text, s.currency
FROM order_view_shipments s JOIN order_views o ON o.tenant_id = s.tenant_id AND o.order_id = s.order_id
WHERE s.tenant_id = $1 AND replace(s.tracking_no, '-', '') = $2 ORDER BY s.shipped_at DESC NULLS LAST LIMIT 1`
	var r shipmentRow
	var amount, cur string
	err := q.QueryRow(ctx, query, t, tracking).Scan(&r.shipment, &r.order, &r.status, &r.method, &amount, &cur)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find shipment: %w", err)
	}
	r.cod, err = money.Parse(amount, money.Currency(cur))
	return &r, err
}

// RunRemittance claims and runs a queued remittance import: it reads the
// CSV (a file that cannot be read fails the job with the line numbers;
// nothing is imported), finds each line's shipment by tracking number,
// records the collection of delivered COD shipments whose amount agrees
// (CollectCOD, idempotent per line), and appends the remittance with every
// line's status and the carrier fees. Lines imported by an earlier
// remittance are left out. It returns false when there was nothing to claim.
func (j Jobs) RunRemittance(ctx context.Context, id uuid.UUID) (bool, error) {
	c, err := j.claim(ctx, id, KindRemittance)
	if err != nil || c == nil {
		return false, err
	}
	m := DefaultRemittanceMap
	if err := json.Unmarshal(c.options, &m); err != nil {
		return true, j.fail(ctx, id, err)
	}
	cur, _, err := j.currency(ctx, c.tenant)
	if err != nil {
		return true, j.fail(ctx, id, err)
	}
	rows, err := ReadRemittance(c.file, m, cur)
	if err != nil {
		return true, j.reject(ctx, id, fileError(err))
	}
	by := commands.By{Actor: c.actor, Correlation: id}
	lines := make([]statement.RemittanceLine, 0, len(rows))
	for i, r := range rows {
		held, err := commands.RemittanceLineKeyHeld(ctx, j.pool(), c.tenant, r.Key, id)
		if err != nil {
			return true, j.fail(ctx, id, err)
		}
		l := statement.RemittanceLine{Key: r.Key, Record: r.Record, TrackingNo: r.TrackingNo, Amount: r.Amount, Fee: r.Fee, RemittedOn: r.RemittedOn}
		if !held {
			if err := j.resolve(ctx, c.tenant, by, &l); err != nil {
				return true, j.fail(ctx, id, err)
			}
		}
		lines = append(lines, l)
		j.progress(ctx, id, i+1, len(rows))
	}
	_, err = j.Commands.ImportRemittance(ctx, commands.ImportRemittance{Tenant: c.tenant, By: by, Remittance: statement.RemittanceID{UUID: id}, Lines: lines})
	if err != nil {
		return true, j.fail(ctx, id, err)
	}
	const q = `UPDATE import_jobs SET status = 'completed', processed_rows = $2, total_rows = $2, finished_at = now(), heartbeat_at = now() WHERE id = $1`
	if _, err := j.pool().Exec(context.WithoutCancel(ctx), q, id, len(rows)); err != nil {
		return true, err
	}
	return true, nil
}

// resolve finds a line's shipment and records its collection when the
// shipment is a delivered COD parcel whose amount agrees.
func (j Jobs) resolve(ctx context.Context, t tenant.ID, by commands.By, l *statement.RemittanceLine) error {
	sh, err := findShipment(ctx, j.pool(), t, l.TrackingNo)
	if err != nil {
		return err
	}
	if sh == nil {
		l.Status = statement.RemittanceUnknownTracking
		return nil
	}
	l.Shipment, l.Order = &sh.shipment, &sh.order
	switch {
	case sh.method != "cod":
		l.Status = statement.RemittanceNotCOD
		return nil
	case sh.status != string(shipment.StatusDelivered):
		l.Status = statement.RemittanceNotDelivered
		return nil
	case !sh.cod.Equal(l.Amount):
		l.Status, l.Expected = statement.RemittanceAmountDiffers, &sh.cod
		return nil
	}
	by.CommandID = uuid.NewSHA1(by.Correlation, []byte("cod:"+l.Key))
	_, err = j.Commands.CollectCOD(ctx, commands.CollectCOD{Tenant: t, By: by, Shipment: shipment.ID{UUID: sh.shipment}, Amount: l.Amount})
	switch {
	case err == nil, errors.Is(err, eventstore.ErrDuplicate):
		l.Status = statement.RemittanceCollected
	case errs.KindOf(err) != errs.KindInternal:
		l.Status = RemittanceCollectionRefused
	default:
		return err
	}
	return nil
}

// RemittanceView is a remittance import as GET /cod-remittances/{id} shows it.
type RemittanceView struct {
	ID            uuid.UUID            `json:"id"`
	Status        string               `json:"status"`
	TotalLines    int                  `json:"total_lines"`
	Duplicates    int                  `json:"duplicates"`
	Collected     int                  `json:"collected"`
	Discrepancies int                  `json:"discrepancies"`
	Lines         []RemittanceLineView `json:"lines"`
	Errors        []RowError           `json:"errors"`
	Message       *string              `json:"message"`
	CreatedAt     time.Time            `json:"created_at"`
	FinishedAt    *time.Time           `json:"finished_at"`
}

// RemittanceLineView is one remittance line and its status.
type RemittanceLineView struct {
	Line       int          `json:"line"`
	TrackingNo string       `json:"tracking_no"`
	Amount     money.Money  `json:"amount"`
	Fee        money.Money  `json:"fee"`
	RemittedOn string       `json:"remitted_on"`
	Status     string       `json:"status"`
	ShipmentID *uuid.UUID   `json:"shipment_id"`
	OrderID    *uuid.UUID   `json:"order_id"`
	Expected   *money.Money `json:"expected"`
}

// Remittance returns a remittance import of tenant t with its lines. It
// returns eventstore.ErrNotFound.
func (j Jobs) Remittance(ctx context.Context, q eventstore.Querier, t tenant.ID, id uuid.UUID) (RemittanceView, error) {
	r, err := j.job(ctx, q, t, id, KindRemittance)
	if err != nil {
		return RemittanceView{}, err
	}
	v := RemittanceView{ID: id, Status: r.status, TotalLines: r.total, Message: r.message, CreatedAt: r.createdAt, FinishedAt: r.finishedAt,
		Errors: []RowError{}, Lines: []RemittanceLineView{}}
	if err := json.Unmarshal(r.errs, &v.Errors); err != nil {
		return RemittanceView{}, err
	}
	if err := q.QueryRow(ctx, `SELECT duplicates FROM cod_remittances WHERE tenant_id = $1 AND remittance_id = $2`, t, id).Scan(&v.Duplicates); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return RemittanceView{}, err
	}
	const query = `SELECT record, tracking_no, amount::text, fee::text, currency, remitted_on::text, status, shipment_id, order_id, expected::text
FROM cod_remittance_lines WHERE tenant_id = $1 AND remittance_id = $2 ORDER BY record`
	rows, err := q.Query(ctx, query, t, id)
	if err != nil {
		return RemittanceView{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var l RemittanceLineView
		var amount, fee, cur string
		var expected *string
		if err := rows.Scan(&l.Line, &l.TrackingNo, &amount, &fee, &cur, &l.RemittedOn, &l.Status, &l.ShipmentID, &l.OrderID, &expected); err != nil {
			return RemittanceView{}, err
		}
		if l.Amount, err = money.Parse(amount, money.Currency(cur)); err != nil {
			return RemittanceView{}, err
		}
		if l.Fee, err = money.Parse(fee, money.Currency(cur)); err != nil {
			return RemittanceView{}, err
		}
		if expected != nil {
			e, err := money.Parse(*expected, money.Currency(cur))
			if err != nil {
				return RemittanceView{}, err
			}
			l.Expected = &e
		}
		if l.Status == statement.RemittanceCollected {
			v.Collected++
		} else {
			v.Discrepancies++
		}
		v.Lines = append(v.Lines, l)
	}
	return v, rows.Err()
}
