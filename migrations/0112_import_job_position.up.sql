-- The position of the last event a finished import had appended (a
-- consistency token): a client that reads with X-Min-Position set to it
-- sees every change the import made, e.g. in the product export.
ALTER TABLE import_jobs ADD COLUMN position text;
