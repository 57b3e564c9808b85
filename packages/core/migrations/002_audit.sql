-- Tamper evidence, append-only rows, oversight events, retention and legal hold.
-- ${schema:name}, ${table:name} and the derived names (${chains:name}, ${events:name}, ${audit:name},
-- ${hold:name}, ${gaps:name}) are filled in by the migration runner.

-- Each writer instance is a chain: its records carry the chain, a gap-free sequence number, the hash of
-- the record before and their own hash (see docs/operating.md, "Tamper evidence", for the canonical form).
ALTER TABLE ${schema:name}.${table:name}
  ADD COLUMN chain_id    uuid,
  ADD COLUMN chain_seq   bigint,
  ADD COLUMN prev_hash   text,
  ADD COLUMN record_hash text;
CREATE INDEX ON ${schema:name}.${table:name} (chain_id, chain_seq);

CREATE TABLE ${schema:name}.${chains:name} (
  chain_id        uuid        PRIMARY KEY,
  kind            text        NOT NULL CHECK (kind IN ('record', 'event')),
  started_at      timestamptz NOT NULL,
  host            text,
  pid             integer,
  service         text,
  service_version text,
  -- The head: sequence number and hash of the chain's last stored row, updated with every batch.
  last_seq        bigint      NOT NULL DEFAULT 0,
  last_hash       text,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Human oversight beside the inference it concerns (AI Act Art. 14): reviews, overrides, second
-- verifiers, feedback, ground truth, incident flags. Chained like records, in chains of kind 'event'.
CREATE TABLE ${schema:name}.${events:name} (
  id          uuid        PRIMARY KEY,
  created_at  timestamptz NOT NULL,
  subject     text        NOT NULL,
  type        text        NOT NULL,
  actor       text,
  data        jsonb,
  redactions  text[]      NOT NULL DEFAULT '{}',
  chain_id    uuid,
  chain_seq   bigint,
  prev_hash   text,
  record_hash text
);
CREATE INDEX ON ${schema:name}.${events:name} (subject);
CREATE INDEX ON ${schema:name}.${events:name} (chain_id, chain_seq);

-- Who did what to the log itself: legal holds, retention runs.
CREATE TABLE ${schema:name}.${audit:name} (
  id      bigserial   PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text        NOT NULL,
  action  text        NOT NULL,
  reason  text,
  details jsonb
);

CREATE TABLE ${schema:name}.${hold:name} (
  one    boolean     PRIMARY KEY DEFAULT true CHECK (one),
  active boolean     NOT NULL,
  reason text,
  actor  text,
  since  timestamptz NOT NULL
);

-- The stretches of each chain that retention dropped, with the hash of the last row dropped, so that
-- the chain still verifies from the first row kept.
CREATE TABLE ${schema:name}.${gaps:name} (
  chain_id   uuid        NOT NULL,
  from_seq   bigint      NOT NULL,
  to_seq     bigint      NOT NULL,
  last_hash  text        NOT NULL,
  partition  text        NOT NULL,
  dropped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain_id, from_seq)
);

-- Append-only: rows are never changed or deleted, not even by the owner (retention drops whole
-- partitions, which is DDL, not DELETE).
CREATE OR REPLACE FUNCTION ${schema:name}.inferlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'inferlog: % of %.% refused: the log is append-only (retention drops whole partitions with "inferlog retention")',
    TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER inferlog_append_only BEFORE UPDATE OR DELETE ON ${schema:name}.${table:name}
  FOR EACH ROW EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON ${schema:name}.${table:name}
  FOR EACH STATEMENT EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only BEFORE UPDATE OR DELETE ON ${schema:name}.${events:name}
  FOR EACH ROW EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only_truncate BEFORE TRUNCATE ON ${schema:name}.${events:name}
  FOR EACH STATEMENT EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only BEFORE UPDATE OR DELETE ON ${schema:name}.${audit:name}
  FOR EACH ROW EXECUTE FUNCTION ${schema:name}.inferlog_append_only();
CREATE TRIGGER inferlog_append_only BEFORE UPDATE OR DELETE ON ${schema:name}.${gaps:name}
  FOR EACH ROW EXECUTE FUNCTION ${schema:name}.inferlog_append_only();

-- Monthly partitions for a role that may only INSERT: this function runs with the owner's rights and
-- can do nothing but create the partition of one month of this log table.
CREATE OR REPLACE FUNCTION ${schema:name}.${addPartition:name}(month date) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
  first date := date_trunc('month', month)::date;
  name  text := ${table} || '_p' || to_char(first, 'YYYY_MM');
BEGIN
  IF first < date '2000-01-01' OR first > (now() + interval '10 years') THEN
    RAISE EXCEPTION 'inferlog: no partition for %: out of range', first;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('inferlog:' || ${schema}));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
    ${schema}, name, ${schema}, ${table}, first::timestamptz, (first + interval '1 month')::timestamptz);
END
$fn$;

-- Roles: inferlog_writer may only add rows (the middleware's role), inferlog_reader may only read.
-- Roles are global to the cluster; a migrating user without CREATEROLE leaves them to the DBA.
DO $roles$
DECLARE
  role text;
BEGIN
  FOREACH role IN ARRAY ARRAY['inferlog_writer', 'inferlog_reader'] LOOP
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role) THEN EXECUTE format('CREATE ROLE %I NOLOGIN', role); END IF;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL; -- another schema's migration created it just now
      WHEN insufficient_privilege THEN RAISE NOTICE 'inferlog: cannot create role % (no CREATEROLE); its grants are skipped', role;
    END;
  END LOOP;
END
$roles$;

DO $grants$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'inferlog_writer') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO inferlog_writer', ${schema});
    EXECUTE format('GRANT INSERT ON %I.%I, %I.%I TO inferlog_writer', ${schema}, ${table}, ${schema}, ${events});
    -- ON CONFLICT (id, started_at) DO NOTHING reads the key columns.
    EXECUTE format('GRANT SELECT (id, started_at) ON %I.%I TO inferlog_writer', ${schema}, ${table});
    EXECUTE format('GRANT SELECT (id) ON %I.%I TO inferlog_writer', ${schema}, ${events});
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I.%I TO inferlog_writer', ${schema}, ${chains});
    EXECUTE format('GRANT SELECT ON %I.%I TO inferlog_writer', ${schema}, ${migrations});
    EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%I(date) TO inferlog_writer', ${schema}, ${addPartition});
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'inferlog_reader') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO inferlog_reader', ${schema});
    EXECUTE format('GRANT SELECT ON %I.%I, %I.%I, %I.%I, %I.%I, %I.%I, %I.%I TO inferlog_reader',
      ${schema}, ${table}, ${schema}, ${events}, ${schema}, ${chains}, ${schema}, ${audit}, ${schema}, ${hold}, ${schema}, ${gaps});
  END IF;
END
$grants$;
