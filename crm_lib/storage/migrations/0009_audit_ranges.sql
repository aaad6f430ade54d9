-- Venture CRM schema 9: a bulk write is audited as one row per table, the range of ids it created.

-- An import of 100,000 investors used to write an audit row holding a JSON image of every
-- created investor, person, directory entry and commitment: half a million rows, a third of the
-- database, and a quarter of the import's time, each image repeating what the row itself holds at
-- version 1. A bulk write now records, per table, one 'create' row whose entity_id ..
-- last_entity_id is the contiguous range of ids it created (new_value: first, last, count).
-- Single-row writes keep their image. Every later change is audited field by field as before.
ALTER TABLE audit_log ADD COLUMN last_entity_id INTEGER
    CHECK (last_entity_id IS NULL OR last_entity_id >= entity_id);

-- Only range rows: a record's history finds the ranges that hold it by scanning this small index.
CREATE INDEX audit_ranges ON audit_log (entity, entity_id, last_entity_id)
    WHERE last_entity_id IS NOT NULL;
