-- Chain ownership: a writer may only extend its own chain, forward; every head it stores is signed; a
-- chain's origin is what the server saw, not what the client claimed (see docs/operating.md, "Chain
-- ownership").

-- public_key:     the writer's Ed25519 public key (raw 32 bytes, lower-case hex), made with the chain, kept in memory.
-- token_hash:     sha256 (hex) of the writer's secret token: a head moves only for the transaction that presents it.
-- head_signature: Ed25519 signature (hex) of "inferlog-chain-head-v1\n<chain_id>\n<last_seq>\n<last_hash>".
-- head_token:     how a head move presents the token (a bind parameter); the trigger checks it and stores NULL.
-- registered_by, client_addr, backend_start, registered_at: the session that registered the chain, as the server saw it.
ALTER TABLE ${schema:name}.${chains:name}
  ADD COLUMN public_key     text,
  ADD COLUMN token_hash     text,
  ADD COLUMN head_signature text,
  ADD COLUMN head_token     text,
  ADD COLUMN registered_by  text,
  ADD COLUMN client_addr    inet,
  ADD COLUMN backend_start  timestamptz,
  ADD COLUMN registered_at  timestamptz;

-- A new registration must bring a key and a token hash, and gets its origin from the server, whatever
-- the client sent. Chains registered before this migration keep NULL in all of these: unsigned, legacy.
CREATE OR REPLACE FUNCTION ${schema:name}.inferlog_chain_register() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.public_key IS NULL OR NEW.public_key !~ '^[0-9a-f]{64}$' OR NEW.token_hash IS NULL OR NEW.token_hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'inferlog: registration of chain % in %.% refused: a chain must be registered with its public key and token hash',
      NEW.chain_id, TG_TABLE_SCHEMA, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege', HINT = 'This writer predates chain keys (migration 5): upgrade it to the inferlog version that migrated this log.';
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
CREATE TRIGGER inferlog_chain_register BEFORE INSERT ON ${schema:name}.${chains:name}
  FOR EACH ROW EXECUTE FUNCTION ${schema:name}.inferlog_chain_register();

-- The head only, strictly forward, and for a keyed chain only by the writer that holds its token.
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
     OR NEW.registered_at IS DISTINCT FROM OLD.registered_at THEN
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
  END IF;
  NEW.head_token := NULL;
  RETURN NEW;
END
$fn$;

-- The writer registers chains (not their origin, not a head) and moves heads; nothing else.
DO $grants$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'inferlog_writer') THEN
    EXECUTE format('REVOKE INSERT, UPDATE ON %I.%I FROM inferlog_writer', ${schema}, ${chains});
    EXECUTE format('GRANT INSERT (chain_id, kind, started_at, host, pid, service, service_version, public_key, token_hash) ON %I.%I TO inferlog_writer',
      ${schema}, ${chains});
    EXECUTE format('GRANT UPDATE (last_seq, last_hash, head_signature, head_token, updated_at) ON %I.%I TO inferlog_writer', ${schema}, ${chains});
  END IF;
END
$grants$;
