import type { RecordRow } from '@inferlog/core/audit';
import { ms, type Column } from './output';

/** The columns tail and query print for a record. */
export const RECORD_TABLE_COLUMNS: readonly Column<RecordRow>[] = [
  { header: 'time', value: (r) => r.started_at, max: 24 },
  { header: 'request id', value: (r) => r.request_id, max: 26 },
  { header: 'model', value: (r) => r.model_name ?? '-', max: 20 },
  { header: 'version', value: (r) => r.model_version ?? '-', max: 8 },
  { header: 'status', value: (r) => (r.status === null ? (r.aborted ? 'aborted' : '-') : String(r.status)), right: true, max: 7 },
  { header: 'latency', value: (r) => ms(r.latency_ms), right: true, max: 9 },
  { header: 'protocol', value: (r) => r.protocol, max: 16 },
  { header: 'route', value: (r) => r.route ?? r.path, max: 60 },
];
