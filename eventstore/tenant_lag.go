package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TenantLag is Lag restricted to one tenant's events: how many of them
// (counting at most limit) lie after p, and the age of the oldest. It reads
// events_tenant_feed_ix, so other tenants' events cost nothing.
func TenantLag(ctx context.Context, q Querier, tenant uuid.UUID, p Position, limit int) (int, time.Duration, error) {
	const query = `
SELECT count(*), coalesce(extract(epoch FROM now() - min(recorded_at)), 0)
FROM (SELECT e.recorded_at FROM events e
      WHERE e.tenant_id = $1
        AND (e.tx_id, e.global_position) > ($2::text::xid8, $3::bigint)
        AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.tx_id, e.global_position
      LIMIT $4) t`
	var n int
	var secs float64
	if err := q.QueryRow(ctx, query, tenant, p.TxText(), p.Pos, limit).Scan(&n, &secs); err != nil {
		return 0, 0, fmt.Errorf("tenant lag: %w", err)
	}
	return n, time.Duration(max(secs, 0) * float64(time.Second)), nil
}
