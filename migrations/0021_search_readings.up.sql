-- Read model search_documents.v2: the v1 tables plus the readings of each
-- document's title and category names (search/reading), so that a query in
-- kana matches kanji spellings and spellings that share a reading match
-- each other. grams holds the bigrams of the readings too.
CREATE FUNCTION rm_search_documents_v2_create(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_search_documents_v1_create(s);
    EXECUTE format($f$
        ALTER TABLE %1$I.search_documents
            ADD COLUMN reading_n text   NOT NULL DEFAULT '',   -- folded readings of title and categories
            ADD COLUMN words_n   text[] NOT NULL DEFAULT '{}'  -- whole words: surfaces and readings, folded
        $f$, s);
END
$$;

CREATE FUNCTION rm_search_documents_v2_index(s text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rm_search_documents_v1_index(s);
END
$$;
