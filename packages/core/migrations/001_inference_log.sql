-- The inference log: one row per inference, range-partitioned by month on started_at.
-- ${schema:name} and ${table:name} are filled in by the migration runner.
CREATE SCHEMA IF NOT EXISTS ${schema:name};

CREATE TABLE ${schema:name}.${table:name} (
  id                  uuid             NOT NULL,
  started_at          timestamptz      NOT NULL,
  ended_at            timestamptz      NOT NULL,
  latency_ms          double precision NOT NULL,
  request_id          text             NOT NULL,
  trace_id            text,
  span_id             text,
  service             text,
  service_version     text,
  host                text,
  method              text             NOT NULL,
  route               text,
  path                text             NOT NULL,
  status              integer,
  aborted             boolean          NOT NULL DEFAULT false,
  protocol            text             NOT NULL,
  model_name          text,
  model_version       text,
  inference_id        text,
  parameters          jsonb,
  inputs              jsonb,
  outputs             jsonb,
  response_parameters jsonb,
  usage               jsonb,
  error               jsonb,
  request_headers     jsonb,
  response_headers    jsonb,
  request_body        text,
  response_body       text,
  request_bytes       bigint           NOT NULL DEFAULT 0,
  response_bytes      bigint           NOT NULL DEFAULT 0,
  request_sha256      text,
  response_sha256     text,
  truncated           text[]           NOT NULL DEFAULT '{}',
  redactions          text[]           NOT NULL DEFAULT '{}',
  schema_errors       jsonb,
  annotations         jsonb,
  PRIMARY KEY (id, started_at)
) PARTITION BY RANGE (started_at);

CREATE INDEX ON ${schema:name}.${table:name} (request_id);
CREATE INDEX ON ${schema:name}.${table:name} (model_name, started_at);
-- Rows arrive in time order, so a BRIN index serves time ranges at a fraction of a btree's write cost.
CREATE INDEX ON ${schema:name}.${table:name} USING brin (started_at);
