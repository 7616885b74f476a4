-- The feed of one stream type (watermill topics such as "payment" or
-- "shipment"): a subscriber's cursor is an index condition behind an
-- equality on its filter, so polling a sparse topic reads only the events
-- of that type after the cursor, never the events of other types since.
CREATE INDEX events_stream_type_feed_ix ON events (stream_type, tx_id, global_position);
