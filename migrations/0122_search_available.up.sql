-- Read model search_documents.v3: the v2 tables plus search_available, the
-- available units of each searchable product, in a narrow row of its own.
-- A search hit's "available" is read from it (search/postgres joins it into
-- search_hits.hit, which no longer stores the figure), so a reservation
-- that leaves the product in stock writes this one small row and rewrites
-- neither the document, its hit, its words nor the facet counts; only a
-- flip of in-stock does. fillfactor leaves room for HOT updates.
CREATE FUNCTION rm_search_documents_v3_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_search_documents_v2_create(s);
    EXECUTE format($f$
        CREATE TABLE %1$I.search_available (
            tenant_id uuid   NOT NULL,
            id        uuid   NOT NULL,
            available bigint NOT NULL,
            PRIMARY KEY (tenant_id, id)
        ) WITH (fillfactor = 70);
        ALTER TABLE %1$I.search_stock SET (fillfactor = 70)$f$, s);
END
$$;
