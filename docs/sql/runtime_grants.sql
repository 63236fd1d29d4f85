-- What the runtime role ccdg_app may do (docs/operations.md, "Database roles").
-- Run as the owner ccdg_owner, connected to the app's database, after `migrate`; running it
-- again is harmless. The owner keeps everything else: the schema, ALTER TABLE, triggers.

-- Use the schema, create nothing in it (PostgreSQL 15+ already refuses CREATE to PUBLIC).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO ccdg_app;

-- Read and write the rows of every table, and draw ids from every sequence, that exists now...
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ccdg_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ccdg_app;
-- ...and of those later migrations create (as this owner).
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ccdg_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ccdg_app;

-- The audit trail: read and append, nothing else (no UPDATE, DELETE, TRUNCATE, TRIGGER).
REVOKE ALL ON ccdg_auditevent FROM ccdg_app;
GRANT SELECT, INSERT ON ccdg_auditevent TO ccdg_app;
