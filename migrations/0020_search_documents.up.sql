-- Read model search_documents (projector search_documents.v1) and the state
-- of the Meilisearch sync (projector meili_sync.v1): one search document per
-- published product, plus the folded catalog state both projectors keep.
--
-- pg_trgm gives typo correction (the word dictionary) and the fuzzy
-- fallback. Japanese needs a non-C LC_CTYPE for pg_trgm (see README); the
-- character-bigram index (grams) does not depend on the locale.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The folded catalog state, shared by both projectors (each in its own
-- generation schema). Not exposed as views, except categories and vendors
-- (facet labels).
CREATE FUNCTION rm_search_state_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        CREATE TABLE %1$I.search_products (
            tenant_id    uuid   NOT NULL,
            id           uuid   NOT NULL,
            vendor_id    uuid,
            category_ids uuid[] NOT NULL DEFAULT '{}',
            state        jsonb  NOT NULL,
            version      bigint NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.search_variants (
            tenant_id  uuid NOT NULL,
            variant_id uuid NOT NULL,
            product_id uuid NOT NULL,
            PRIMARY KEY (tenant_id, variant_id)
        );
        CREATE TABLE %1$I.search_stock (
            tenant_id  uuid   NOT NULL,
            variant_id uuid   NOT NULL,
            available  bigint NOT NULL,
            PRIMARY KEY (tenant_id, variant_id)
        );
        CREATE TABLE %1$I.search_categories (
            tenant_id uuid NOT NULL,
            id        uuid NOT NULL,
            name      text NOT NULL,
            parent_id uuid,
            PRIMARY KEY (tenant_id, id)
        );
        CREATE TABLE %1$I.search_vendors (
            tenant_id uuid NOT NULL,
            id        uuid NOT NULL,
            name      text NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_search_documents_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_search_state_v1_create(s);
    EXECUTE format($f$
        -- What queries match, rank and count; kept narrow (the hit JSON is
        -- in search_hits, read only for the page).
        CREATE TABLE %1$I.search_documents (
            tenant_id    uuid        NOT NULL,
            id           uuid        NOT NULL,
            title_n      text        NOT NULL,  -- normalised title (ranking, trigram fallback)
            match_n      text        NOT NULL,  -- normalised title, vendor, categories, variants, SKUs
            grams        text[]      NOT NULL,  -- character bigrams + non-ASCII unigrams of match_n
            tsv          tsvector    NOT NULL,  -- words: match_n (A), description (D)
            vendor_id    uuid,
            category_ids uuid[]      NOT NULL,  -- own categories and their ancestors
            price_min    numeric,
            price_max    numeric,
            price_bucket text        NOT NULL,
            in_stock     boolean     NOT NULL,
            created_at   timestamptz NOT NULL,
            version      bigint      NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        -- Each document as a search hit shows it (search.Hit JSON).
        CREATE TABLE %1$I.search_hits (
            tenant_id uuid  NOT NULL,
            id        uuid  NOT NULL,
            hit       jsonb NOT NULL,
            PRIMARY KEY (tenant_id, id)
        );
        -- The vocabulary for typo correction: every word of the documents,
        -- with the number of documents holding it.
        CREATE TABLE %1$I.search_words (
            tenant_id uuid   NOT NULL,
            word      text   NOT NULL,
            ndoc      bigint NOT NULL,
            PRIMARY KEY (tenant_id, word)
        );
        -- Whole-catalog facet counts, kept by the projector so that a browse
        -- page without text answers without aggregating the catalog.
        CREATE TABLE %1$I.search_facet_counts (
            tenant_id uuid    NOT NULL,
            facet     text    NOT NULL,
            value     text    NOT NULL,
            in_stock  boolean NOT NULL,
            n         bigint  NOT NULL,
            PRIMARY KEY (tenant_id, facet, value, in_stock)
        )$f$, s);
END
$$;

CREATE FUNCTION rm_search_documents_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_grams_ix ON %I.search_documents USING gin (grams)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_tsv_ix ON %I.search_documents USING gin (tsv)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_title_trgm_ix ON %I.search_documents USING gin (title_n public.gin_trgm_ops)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_categories_ix ON %I.search_documents USING gin (category_ids)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_vendor_ix ON %I.search_documents (tenant_id, vendor_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_newest_ix ON %I.search_documents (tenant_id, created_at DESC, id DESC)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_price_ix ON %I.search_documents (tenant_id, price_min, id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_documents_price_max_ix ON %I.search_documents (tenant_id, price_max DESC, id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_words_trgm_ix ON %I.search_words USING gin (word public.gin_trgm_ops)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_variants_product_ix ON %I.search_variants (tenant_id, product_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_products_categories_ix ON %I.search_products USING gin (category_ids)', s);
END
$$;

-- meili_sync.v1 keeps the same folded state and pushes documents to
-- Meilisearch; meili_sync_state records which Meilisearch index this
-- generation writes.
CREATE FUNCTION rm_meili_sync_v1_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_search_state_v1_create(s);
    EXECUTE format($f$
        CREATE TABLE %1$I.meili_sync_state (
            index_uid text PRIMARY KEY
        )$f$, s);
END
$$;

CREATE FUNCTION rm_meili_sync_v1_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_variants_product_ix ON %I.search_variants (tenant_id, product_id)', s);
    EXECUTE format('CREATE INDEX IF NOT EXISTS search_products_categories_ix ON %I.search_products USING gin (category_ids)', s);
END
$$;
