-- Indexes that no client-chosen value can overflow (issue 19): a btree entry must fit in a third of a
-- page (2704 bytes), so a 3 KB model name sent by a client made PostgreSQL refuse its whole record.
-- Equality lookups (request_id, an event's subject) get hash indexes, which store a 4-byte hash of any
-- value; the model index keeps its order by time on the model name's first 256 characters (at most 1 KiB
-- of UTF-8), and the filters compare that prefix and then the whole name (audit/filter.ts). Existing
-- logs lose the btree indexes of migrations 1 and 2 on these columns, whatever PostgreSQL named them.
DO $drop$
DECLARE
  old record;
BEGIN
  FOR old IN
    SELECT format('%I.%I', ${schema}, c.relname) AS name
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am a ON a.oid = c.relam
     WHERE a.amname = 'btree' AND i.indexprs IS NULL AND NOT i.indisunique
       AND ((i.indrelid = format('%I.%I', ${schema}, ${table})::regclass
             AND (SELECT array_agg(t.attname::text ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute t ON t.attrelid = i.indrelid AND t.attnum = k.attnum)
                 IN (ARRAY['request_id'], ARRAY['model_name', 'started_at']))
         OR (i.indrelid = format('%I.%I', ${schema}, ${events})::regclass
             AND (SELECT array_agg(t.attname::text ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute t ON t.attrelid = i.indrelid AND t.attnum = k.attnum) = ARRAY['subject']))
  LOOP
    EXECUTE format('DROP INDEX %s', old.name);
  END LOOP;
END
$drop$;

CREATE INDEX ON ${schema:name}.${table:name} USING hash (request_id);
CREATE INDEX ON ${schema:name}.${table:name} ((left(model_name, 256)), started_at);
CREATE INDEX ON ${schema:name}.${events:name} USING hash (subject);
