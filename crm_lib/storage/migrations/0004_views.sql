-- Venture CRM schema 4: saved views keep their column order, and each user has a default view.
ALTER TABLE fundraising_views ADD COLUMN field_order TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN default_view_id INTEGER REFERENCES fundraising_views (id);
CREATE INDEX users_default_view ON users (default_view_id);
