-- Read model cart_views.v2: a line's reservation status is no longer
-- copied into cart_lines. v1 followed the reservation's inventory events
-- and rewrote the line for each (pending → reserved → committed: three row
-- versions of every line of every order). The status lives in
-- reservation_index, written in the transaction that decides it; the cart
-- query joins it by the line's reservation_id (cartviews.Get), so a line is
-- written when the cart changes it and a decision shows as soon as it is
-- committed. Tables as in v1 without cart_lines.reservation_status and
-- expires_at; no secondary index (nothing looks lines up by reservation).
CREATE FUNCTION rm_cart_views_v2_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_cart_views_v1_create(s);
    EXECUTE format('ALTER TABLE %I.cart_lines DROP COLUMN reservation_status, DROP COLUMN expires_at', s);
END
$$;
