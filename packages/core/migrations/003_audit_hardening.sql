-- Hardening of the audit tables (found in review of migration 2): partitions made in UTC months and
-- attached without blocking readers, TRUNCATE refused on every log table and partition, chain heads
-- that only move forward, gap rows that are well-formed, and grants as narrow as the writer needs.

-- Gap rows cover seq from..to; a reversed one would make no sense (and could loop a verifier).
ALTER TABLE ${schema:name}.${gaps:name} ADD CONSTRAINT inferlog_gap_seq CHECK (to_seq >= from_seq AND from_seq >= 1);

-- Chain heads: a writer may move its head forward (last_seq grows, last_hash follows) and nothing
-- else; nobody may delete a chain's registration, so a chain cannot vanish without a trace.
CREATE OR REPLACE FUNCTION ${schema:name}.inferlog_chain_head_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'inferlog: DELETE of %.% refused: chains stay registered', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.chain_id IS DISTINCT FROM OLD.chain_id OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.started_at IS DISTINCT FROM OLD.started_at
     OR NEW.host IS DISTINCT FROM OLD.host OR NEW.pid IS DISTINCT FROM OLD.pid OR NEW.service IS DISTINCT FROM OLD.service
     OR NEW.service_version IS DISTINCT FROM OLD.service_version OR NEW.last_seq < OLD.last_seq THEN
    RAISE EXCEPTION 'inferlog: UPDATE of %.% refused: only a chain''s head may change, and only forward', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER inferlog_chain_head_only BEFORE UPDATE OR DELETE ON ${schema:name}.${chains:name}
  FOR EACH ROW EXECUTE FUNCTION ${schema:name}.inferlog_chain_head_only();

-- TRUNCATE is refused on every audit table, and on each partition of the log (a statement trigger on
-- the parent does not fire for a partition truncated by name).
CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON ${schema:name}.${audit:name}
  FOR EACH STATEMENT EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON ${schema:name}.${gaps:name}
  FOR EACH STATEMENT EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON ${schema:name}.${chains:name}
  FOR EACH STATEMENT EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
DO $partitions$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = format('%I.%I', ${schema}, ${table})::regclass LOOP
    EXECUTE format('CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.inferlog_append_only()', part, ${schema});
  END LOOP;
END
$partitions$;

-- Monthly partitions: UTC months whatever the caller's time zone; created as a table of their own and
-- then attached, which takes a lock readers do not block (CREATE … PARTITION OF would wait behind a
-- long export, and every writer behind it); given the TRUNCATE trigger; and for the writer role only.
CREATE OR REPLACE FUNCTION ${schema:name}.${addPartition:name}(month date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $fn$
DECLARE
  first date := date_trunc('month', month)::date;
  name  text := ${table} || '_p' || to_char(first, 'YYYY_MM');
BEGIN
  IF first < date '2000-01-01' OR first > (now() + interval '10 years') THEN
    -- A data error (SQLSTATE class 22): the record with this time is isolated, not retried forever.
    RAISE EXCEPTION 'inferlog: no partition for %: the record''s time is out of range', first USING ERRCODE = 'datetime_field_overflow';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('inferlog:' || ${schema}));
  IF EXISTS (SELECT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE i.inhparent = format('%I.%I', ${schema}, ${table})::regclass AND n.nspname = ${schema} AND c.relname = name) THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I (LIKE %I.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', ${schema}, name, ${schema}, ${table});
  EXECUTE format('ALTER TABLE %I.%I ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
    ${schema}, ${table}, ${schema}, name, first::timestamptz, (first + interval '1 month')::timestamptz);
  EXECUTE format('CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.inferlog_append_only()',
    ${schema}, name, ${schema});
END
$fn$;
REVOKE EXECUTE ON FUNCTION ${schema:name}.${addPartition:name}(date) FROM PUBLIC;

DO $grants$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'inferlog_writer') THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%I(date) TO inferlog_writer', ${schema}, ${addPartition});
    -- The head only: the writer may not rewrite a chain's registration.
    EXECUTE format('REVOKE UPDATE ON %I.%I FROM inferlog_writer', ${schema}, ${chains});
    EXECUTE format('GRANT UPDATE (last_seq, last_hash, updated_at) ON %I.%I TO inferlog_writer', ${schema}, ${chains});
    -- An event sent again with the same id is answered with the stored one, which the writer reads.
    EXECUTE format('GRANT SELECT ON %I.%I TO inferlog_writer', ${schema}, ${events});
  END IF;
END
$grants$;
