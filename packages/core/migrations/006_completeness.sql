-- Completeness statements (see docs/operating.md, "Completeness"): every writer states, at a fixed interval
-- and when it closes, what it captured, wrote, spilled, replayed and dropped since its previous statement.
-- A statement is an oversight-event row of type 'inferlog.completeness' about the writer's record chain
-- (subject = its chain_id), in the writer's own event chain, signed with the record chain's key.

-- statement_interval_ms: how often the record chain's writer promised to state; verify names a writer
-- that stopped stating without a final statement (killed, crashed) as silent. Required for record chains
-- registered from now on, so a writer that does not state cannot start unnoticed.
ALTER TABLE ${schema:name}.${chains:name} ADD COLUMN statement_interval_ms integer;

CREATE OR REPLACE FUNCTION ${schema:name}.inferlog_chain_register() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.public_key IS NULL OR NEW.public_key !~ '^[0-9a-f]{64}$' OR NEW.token_hash IS NULL OR NEW.token_hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'inferlog: registration of chain % in %.% refused: a chain must be registered with its public key and token hash',
      NEW.chain_id, TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege', HINT = 'This writer predates chain keys (migration 5): upgrade it to the inferlog version that migrated this log.';
  END IF;
  IF NEW.kind = 'record' AND (NEW.statement_interval_ms IS NULL OR NEW.statement_interval_ms <= 0) THEN
    RAISE EXCEPTION 'inferlog: registration of chain % in %.% refused: a record chain must be registered with its statement interval',
      NEW.chain_id, TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege', HINT = 'This writer predates completeness statements (migration 6): upgrade it to the inferlog version that migrated this log.';
  END IF;
  IF NEW.kind <> 'record' AND NEW.statement_interval_ms IS NOT NULL THEN
    RAISE EXCEPTION 'inferlog: registration of chain % refused: only record chains state their completeness', NEW.chain_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.last_seq <> 0 OR NEW.last_hash IS NOT NULL OR NEW.head_signature IS NOT NULL THEN
    RAISE EXCEPTION 'inferlog: registration of chain % refused: a chain starts with no head', NEW.chain_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  NEW.head_token := NULL;
  NEW.registered_by := session_user;
  NEW.client_addr := inet_client_addr();
  NEW.backend_start := (SELECT a.backend_start FROM pg_catalog.pg_stat_activity a WHERE a.pid = pg_catalog.pg_backend_pid());
  NEW.registered_at := now();
  RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION ${schema:name}.inferlog_chain_head_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'inferlog: DELETE of %.% refused: chains stay registered', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.chain_id IS DISTINCT FROM OLD.chain_id OR NEW.kind IS DISTINCT FROM OLD.kind OR NEW.started_at IS DISTINCT FROM OLD.started_at
     OR NEW.host IS DISTINCT FROM OLD.host OR NEW.pid IS DISTINCT FROM OLD.pid OR NEW.service IS DISTINCT FROM OLD.service
     OR NEW.service_version IS DISTINCT FROM OLD.service_version OR NEW.public_key IS DISTINCT FROM OLD.public_key
     OR NEW.token_hash IS DISTINCT FROM OLD.token_hash OR NEW.registered_by IS DISTINCT FROM OLD.registered_by
     OR NEW.client_addr IS DISTINCT FROM OLD.client_addr OR NEW.backend_start IS DISTINCT FROM OLD.backend_start
     OR NEW.registered_at IS DISTINCT FROM OLD.registered_at OR NEW.statement_interval_ms IS DISTINCT FROM OLD.statement_interval_ms THEN
    RAISE EXCEPTION 'inferlog: UPDATE of %.% refused: only a chain''s head may change', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.last_seq IS DISTINCT FROM OLD.last_seq OR NEW.last_hash IS DISTINCT FROM OLD.last_hash
     OR NEW.head_signature IS DISTINCT FROM OLD.head_signature THEN
    IF NOT NEW.last_seq > OLD.last_seq THEN
      RAISE EXCEPTION 'inferlog: UPDATE of %.% refused: chain %''s head may only move forward (from seq % to %)',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.chain_id, OLD.last_seq, NEW.last_seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.token_hash IS NOT NULL AND (NEW.head_token IS NULL
       OR encode(sha256(convert_to(NEW.head_token, 'UTF8')), 'hex') IS DISTINCT FROM OLD.token_hash) THEN
      RAISE EXCEPTION 'inferlog: UPDATE of %.% refused: only the writer that registered chain % may move its head',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.chain_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- When the server last heard from the chain's writer: verify judges silence by it, so no client sets it.
    NEW.updated_at := now();
  ELSE
    NEW.updated_at := OLD.updated_at;
  END IF;
  NEW.head_token := NULL;
  RETURN NEW;
END
$fn$;

-- Statements are read by time, per writer (verify, stats, report) and searched for a dropped request (show).
CREATE INDEX ON ${schema:name}.${events:name} (created_at) WHERE type = 'inferlog.completeness';

DO $grants$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'inferlog_writer') THEN
    EXECUTE format('GRANT INSERT (statement_interval_ms) ON %I.%I TO inferlog_writer', ${schema}, ${chains});
  END IF;
END
$grants$;
