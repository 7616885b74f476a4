package pgtest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Queryer is what PagesRead explains a statement on: a pool, a connection
// or a transaction.
type Queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PagesRead runs statement under EXPLAIN (ANALYZE, BUFFERS) on q and
// returns the shared pages it touched (hit or read) and the plan, for
// tests that bound what a statement reads. statement carries its values
// inline (EXPLAIN takes no parameters), such as EXECUTE of a statement
// prepared on q.
func PagesRead(t testing.TB, q Queryer, statement string) (int, string) {
	t.Helper()
	var raw []byte
	if err := q.QueryRow(context.Background(), `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+statement).Scan(&raw); err != nil {
		t.Fatalf("pgtest: explain %s: %v", statement, err)
	}
	var plan []struct {
		Plan struct {
			SharedHit  int `json:"Shared Hit Blocks"`
			SharedRead int `json:"Shared Read Blocks"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) != 1 {
		t.Fatalf("pgtest: a plan of %s: %v\n%s", statement, err, raw)
	}
	return plan[0].Plan.SharedHit + plan[0].Plan.SharedRead, string(raw)
}
