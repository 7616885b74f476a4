-- Read model product_views.v4: each product row also keeps its storefront
-- document rendered whole, so a storefront page builds no JSON in the
-- database. storefront is the document as the storefront shows it (without
-- the back-office fields and the variants not on sale), with one-byte
-- markers where the stock figures go; storefront_stock lists, in document
-- order, the physical variants on sale whose units fill those markers, and
-- storefront_digital says whether a digital variant is on sale (the product
-- is then in stock whatever its units). Written by the projector in the
-- same statement as doc; read by productviews.List and Get for the
-- storefront. Tables and indexes otherwise as in v3.
CREATE FUNCTION rm_product_views_v4_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_product_views_v3_create(s);
    EXECUTE format($f$
        ALTER TABLE %1$I.products
            ADD COLUMN storefront         text,
            ADD COLUMN storefront_stock   uuid[]  NOT NULL DEFAULT '{}',
            ADD COLUMN storefront_digital boolean NOT NULL DEFAULT false
    $f$, s);
END
$$;
