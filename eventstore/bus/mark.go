package bus

import (
	"context"
	"fmt"

	"github.com/honten/honten/eventstore"
)

// MarkHandled records that every handler has handled its topics up to
// position upTo, as if it had run. An imported log already holds the
// reactions of its source's handlers (shipments created, orders cancelled
// at their deadline): marking them handled keeps a restored database from
// reacting to its history a second time.
func MarkHandled(ctx context.Context, q eventstore.Querier, handlers []Handler, upTo eventstore.Position) error {
	const query = `INSERT INTO watermill_offsets_events (consumer_group, topic, offset_acked, last_processed_transaction_id)
VALUES ($1, $2, $3, $4::text::xid8)
ON CONFLICT (consumer_group, topic) DO UPDATE
SET offset_acked = excluded.offset_acked, last_processed_transaction_id = excluded.last_processed_transaction_id
WHERE (watermill_offsets_events.last_processed_transaction_id, watermill_offsets_events.offset_acked)
    < (excluded.last_processed_transaction_id, excluded.offset_acked)`
	for _, h := range handlers {
		for _, topic := range h.Topics {
			if _, err := q.Exec(ctx, query, h.Name, topic, upTo.Pos, upTo.TxText()); err != nil {
				return fmt.Errorf("mark %s handled on %s: %w", h.Name, topic, err)
			}
		}
	}
	return nil
}
