-- Read model cart_views.v3: a cart's header row is no longer rewritten for
-- every line. v2 updated carts.version and updated_at beside each line's
-- insert or update (two row writes per add-to-cart, the header's on a row
-- every line of the cart rewrites). A line now carries when it last
-- changed (cart_lines.changed_at), and the cart's updated_at is the later
-- of the header's and its lines' (cartviews.Get); the header is written
-- when the cart is created, loses a line (nothing is left to carry the
-- time) or is checked out. Tables as in v2 with cart_lines.changed_at.
CREATE FUNCTION rm_cart_views_v3_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_cart_views_v2_create(s);
    EXECUTE format('ALTER TABLE %I.cart_lines ADD COLUMN changed_at timestamptz NOT NULL', s);
END
$$;
