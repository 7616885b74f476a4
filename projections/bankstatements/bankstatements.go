// Package bankstatements is the bank_statements read model: imported bank
// statements with their lines and each line's status (the reconciliation
// exceptions queue), and carriers' COD remittances with their lines. It
// folds the bank_statement and cod_remittance streams. It must not import
// http or commands.
package bankstatements

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/domain/statement"
	"github.com/honten/honten/eventstore"
	"github.com/honten/honten/projections"
)

// Name is the projector's frozen name; renaming it rebuilds the model.
const Name = "bank_statements.v1"

// Tables are the read model's tables.
var Tables = []string{"bank_statements", "bank_statement_lines", "cod_remittances", "cod_remittance_lines"}

// Projector builds bank_statements.
type Projector struct {
	Registry *eventstore.Registry
}

var _ projections.Projector = Projector{}

// Name implements projections.Projector.
func (Projector) Name() string { return Name }

// Schema implements projections.Projector.
func (Projector) Schema() projections.Schema {
	return projections.Schema{
		Tables:       Tables,
		Create:       "rm_bank_statements_v1_create",
		Index:        "rm_bank_statements_v1_index",
		PayloadTypes: projections.EventNames(statement.Events),
	}
}

// decision is the latest decision on a line within a batch.
type decision struct {
	tenant, line uuid.UUID
	version      int64
	status       string
	how          *string
	allocs       []byte
	reason       *string
	by           string
	at           time.Time
}

// Apply implements projections.Projector. Imports insert their rows (a
// replay conflicts and changes nothing); line decisions update the line
// when their stream version is above the line's, the latest decision per
// line of the batch in one statement.
func (p Projector) Apply(ctx context.Context, tx pgx.Tx, batch []eventstore.Envelope) error {
	decisions := map[[2]uuid.UUID]decision{}
	var order [][2]uuid.UUID
	for _, env := range batch {
		if env.StreamType != statement.StreamType && env.StreamType != statement.RemittanceStreamType {
			continue
		}
		ev, err := p.Registry.Decode(env)
		if err != nil {
			return fmt.Errorf("bank_statements: %w", err)
		}
		t := env.Tenant.UUID
		var d decision
		switch e := ev.(type) {
		case statement.Imported:
			if err := insertStatement(ctx, tx, env, e); err != nil {
				return err
			}
			continue
		case statement.RemittanceImported:
			if err := insertRemittance(ctx, tx, env, e); err != nil {
				return err
			}
			continue
		case statement.LineMatched:
			how := string(e.How)
			allocs, err := json.Marshal(e.Allocations)
			if err != nil {
				return err
			}
			d = decision{tenant: t, line: e.Line.UUID, version: env.Version, status: statement.StatusMatched, how: &how, allocs: allocs, by: e.By, at: e.At}
		case statement.LineIgnored:
			reason := e.Reason
			d = decision{tenant: t, line: e.Line.UUID, version: env.Version, status: statement.StatusIgnored, allocs: []byte("[]"), reason: &reason, by: e.By, at: e.At}
		default:
			continue
		}
		k := [2]uuid.UUID{t, d.line}
		if _, ok := decisions[k]; !ok {
			order = append(order, k)
		}
		decisions[k] = d
	}
	if len(order) == 0 {
		return nil
	}
	var tenants, lines []uuid.UUID
	var versions []int64
	var statuses, bys []string
	var hows, reasons []*string
	var allocs []string
	var ats []time.Time
	for _, k := range order {
		d := decisions[k]
		tenants, lines, versions = append(tenants, d.tenant), append(lines, d.line), append(versions, d.version)
		statuses, bys, hows, reasons = append(statuses, d.status), append(bys, d.by), append(hows, d.how), append(reasons, d.reason)
		allocs, ats = append(allocs, string(d.allocs)), append(ats, d.at)
	}
	const q = `UPDATE bank_statement_lines l SET status = d.status, how = d.how, allocations = d.allocs::jsonb, reason = d.reason,
  decided_by = d.by, decided_at = d.at, version = d.version
FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
  AS d(tenant_id, line_id, version, status, how, allocs, reason, by, at)
WHERE l.tenant_id = d.tenant_id AND l.line_id = d.line_id AND l.version < d.version`
	if _, err := tx.Exec(ctx, q, tenants, lines, versions, statuses, hows, allocs, reasons, bys, ats); err != nil {
		return fmt.Errorf("bank_statements: decisions: %w", err)
	}
	return nil
}

func insertStatement(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, e statement.Imported) error {
	const qs = `INSERT INTO bank_statements (tenant_id, statement_id, format, duplicates, created_by, imported_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, statement_id) DO NOTHING`
	if _, err := tx.Exec(ctx, qs, env.Tenant.UUID, env.StreamID, e.Format, e.Duplicates, e.By, e.At, env.Version); err != nil {
		return fmt.Errorf("bank_statements: insert statement: %w", err)
	}
	n := len(e.Lines)
	if n == 0 {
		return nil
	}
	ids, records := make([]uuid.UUID, n), make([]int32, n)
	dates := make([]time.Time, n)
	deposits := make([]bool, n)
	amounts, currencies, names, refs, descs, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	reasons := make([]*string, n)
	withdrawal := statement.ReasonWithdrawal
	for i, l := range e.Lines {
		ids[i], records[i], dates[i], deposits[i] = l.ID.UUID, int32(l.Record), l.Date, l.Deposit
		amounts[i], currencies[i] = l.Amount.AmountString(), string(l.Amount.Currency())
		names[i], refs[i], descs[i] = l.PayerName, l.Reference, l.Description
		statuses[i] = statement.StatusUnmatched
		if !l.Deposit {
			statuses[i], reasons[i] = statement.StatusIgnored, &withdrawal
		}
	}
	const ql = `INSERT INTO bank_statement_lines (tenant_id, line_id, statement_id, record, date, deposit, amount, currency, payer_name,
  reference, description, status, reason, version)
SELECT $1, l.id, $2, l.record, l.date, l.deposit, l.amount::numeric, l.currency, l.name, l.ref, l.descr, l.status, l.reason, $3
FROM unnest($4::uuid[], $5::int[], $6::timestamptz[], $7::boolean[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
  AS l(id, record, date, deposit, amount, currency, name, ref, descr, status, reason)
ON CONFLICT (tenant_id, line_id) DO NOTHING`
	if _, err := tx.Exec(ctx, ql, env.Tenant.UUID, env.StreamID, env.Version, ids, records, dates, deposits, amounts, currencies, names, refs, descs, statuses, reasons); err != nil {
		return fmt.Errorf("bank_statements: insert lines: %w", err)
	}
	return nil
}

func insertRemittance(ctx context.Context, tx pgx.Tx, env eventstore.Envelope, e statement.RemittanceImported) error {
	const qr = `INSERT INTO cod_remittances (tenant_id, remittance_id, duplicates, created_by, imported_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, remittance_id) DO NOTHING`
	if _, err := tx.Exec(ctx, qr, env.Tenant.UUID, env.StreamID, e.Duplicates, e.By, e.At); err != nil {
		return fmt.Errorf("bank_statements: insert remittance: %w", err)
	}
	const ql = `INSERT INTO cod_remittance_lines (tenant_id, remittance_id, record, tracking_no, amount, fee, currency, remitted_on,
  status, shipment_id, order_id, expected)
VALUES ($1, $2, $3, $4, $5::numeric, $6::numeric, $7, $8, $9, $10, $11, $12::numeric)
ON CONFLICT (tenant_id, remittance_id, record) DO NOTHING`
	b := &pgx.Batch{}
	for _, l := range e.Lines {
		var expected *string
		if l.Expected != nil {
			s := l.Expected.AmountString()
			expected = &s
		}
		b.Queue(ql, env.Tenant.UUID, env.StreamID, l.Record, l.TrackingNo, l.Amount.AmountString(), l.Fee.AmountString(),
			string(l.Amount.Currency()), l.RemittedOn.Format(time.DateOnly), l.Status, l.Shipment, l.Order, expected)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("bank_statements: insert remittance lines: %w", err)
	}
	return nil
}
