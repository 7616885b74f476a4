package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/honten/honten/eventstore"
)

// Dump is a canonical copy of read model rows: per table (in the order the
// projectors declare them), every row as PostgreSQL's text form of the
// record, sorted. Two dumps are equal exactly when the tables hold the same
// rows.
type Dump struct {
	Tables []string
	Rows   map[string][]string
}

// DumpModels reads every table of the runner's projectors through the
// public views (the live generation), in canonical order.
func (r *Runner) DumpModels(ctx context.Context) (Dump, error) {
	var tables []string
	for _, p := range r.projectors {
		tables = append(tables, p.Schema().Tables...)
	}
	return DumpTables(ctx, r.pool, tables...)
}

// DumpTables reads tables (of the public schema) in canonical order.
func DumpTables(ctx context.Context, q eventstore.Querier, tables ...string) (Dump, error) {
	d := Dump{Tables: tables, Rows: map[string][]string{}}
	for _, t := range tables {
		rows, err := q.Query(ctx, `SELECT x::text FROM public.`+quote(t)+` x ORDER BY x::text COLLATE "C"`)
		if err != nil {
			return Dump{}, fmt.Errorf("dump %s: %w", t, err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return Dump{}, fmt.Errorf("dump %s: %w", t, err)
		}
		d.Rows[t] = out
	}
	return d, nil
}

// DumpModelsPortable is DumpModels without the columns of type xid8: the
// transaction ids of the database the log was written in, which another
// database given the same log (an import) cannot reproduce. The order they
// give with the position beside them is the log's global order, which an
// import keeps; the positions are compared.
func (r *Runner) DumpModelsPortable(ctx context.Context) (Dump, error) {
	var tables []string
	for _, p := range r.projectors {
		tables = append(tables, p.Schema().Tables...)
	}
	d := Dump{Tables: tables, Rows: map[string][]string{}}
	for _, t := range tables {
		const cols = `SELECT coalesce(string_agg(quote_ident(attname), ', ' ORDER BY attnum), '') FROM pg_attribute
WHERE attrelid = ('public.' || quote_ident($1))::regclass AND attnum > 0 AND NOT attisdropped AND atttypid <> 'xid8'::regtype`
		var list string
		if err := r.pool.QueryRow(ctx, cols, t).Scan(&list); err != nil {
			return Dump{}, fmt.Errorf("dump %s: %w", t, err)
		}
		rows, err := r.pool.Query(ctx, `SELECT r FROM (SELECT ROW(`+list+`)::text AS r FROM public.`+quote(t)+`) x ORDER BY r COLLATE "C"`)
		if err != nil {
			return Dump{}, fmt.Errorf("dump %s: %w", t, err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return Dump{}, fmt.Errorf("dump %s: %w", t, err)
		}
		d.Rows[t] = out
	}
	return d, nil
}

// Count is the number of rows in the dump.
func (d Dump) Count() int {
	n := 0
	for _, rows := range d.Rows {
		n += len(rows)
	}
	return n
}

// Diff compares d with o row by row and describes up to max differences
// (a table's row count, then the first rows that differ); none means equal.
func (d Dump) Diff(o Dump, max int) []string {
	var out []string
	add := func(s string) bool {
		out = append(out, s)
		return len(out) < max
	}
	for _, t := range d.Tables {
		a, b := d.Rows[t], o.Rows[t]
		if len(a) != len(b) && !add(fmt.Sprintf("%s: %d rows vs %d", t, len(a), len(b))) {
			return out
		}
		i, j := 0, 0
		for i < len(a) || j < len(b) {
			switch {
			case i < len(a) && j < len(b) && a[i] == b[j]:
				i++
				j++
				continue
			case j >= len(b) || i < len(a) && a[i] < b[j]:
				if !add(fmt.Sprintf("%s: only before: %s", t, a[i])) {
					return out
				}
				i++
			default:
				if !add(fmt.Sprintf("%s: only after: %s", t, b[j])) {
					return out
				}
				j++
			}
		}
	}
	return out
}
