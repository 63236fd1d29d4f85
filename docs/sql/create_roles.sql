-- The two database roles of a CCDG deployment (docs/operations.md, "Database roles").
-- Run once as a PostgreSQL superuser (or a role with CREATEROLE); running it again is harmless.
-- ccdg_owner owns the database and its tables and runs the migrations; ccdg_app is the role
-- the web, worker and beat processes connect as. Neither is a superuser, and ccdg_app is not a
-- member of ccdg_owner. No passwords here: set them afterwards in psql with
-- \password ccdg_owner and \password ccdg_app.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ccdg_owner') THEN
        CREATE ROLE ccdg_owner LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ccdg_app') THEN
        CREATE ROLE ccdg_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END
$$;
