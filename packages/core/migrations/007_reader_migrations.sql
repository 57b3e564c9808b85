-- inferlog_reader reads the migration history too: verify dates the log's creation from it (a retention
-- gap is accepted only for months since), so a reader without it could not verify.
DO $grants$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'inferlog_reader') THEN
    EXECUTE format('GRANT SELECT ON %I.%I TO inferlog_reader', ${schema}, ${migrations});
  END IF;
END
$grants$;
