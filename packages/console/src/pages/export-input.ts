// The export form's fields: a time range (required), model, route and status filters read as the records
// page reads them (filters.ts), and the format. A field that cannot be read is named beside it.
import { EXPORT_FORMATS, type ExportFormat, type RecordFilter } from '@inferlog/core/audit';
import { parseFilter } from '../filters';

export const EXPORT_FIELDS = ['since', 'until', 'model', 'route', 'status'] as const;
export type ExportField = (typeof EXPORT_FIELDS)[number] | 'format';

/** The export a form asks for, its fields as given, and each field's problem. */
export interface ExportInput {
  filter: RecordFilter;
  format: ExportFormat;
  kept: Partial<Record<ExportField, string>>;
  problems: Partial<Record<ExportField, string>>;
}

/** The range is complete and every field could be read. */
export const exportReady = (input: ExportInput): input is ExportInput & { filter: { since: Date; until: Date } } =>
  Object.keys(input.problems).length === 0 && input.filter.since !== undefined && input.filter.until !== undefined;

/** Reads the export form (a POSTed form, or nothing: the form's first look, with the last day as its range). */
export function parseExportInput(form: URLSearchParams | null, now = new Date()): ExportInput {
  const given = new URLSearchParams();
  for (const name of EXPORT_FIELDS) {
    const value = form ? form.get(name) : { since: '24h', until: 'now' }[name as string];
    if (value) given.set(name, value);
  }
  const parsed = parseFilter(given, now);
  const problems: ExportInput['problems'] = { ...parsed.problems };
  if (form) {
    if (!parsed.kept.since) problems.since = 'since is required: an export covers a time range (24h, 7d, 2026-05-01)';
    if (!parsed.kept.until) problems.until = 'until is required: an export covers a time range (now, 2026-05-02T12:00Z)';
  }
  const rawFormat = form?.get('format') ?? 'jsonl';
  const format = (EXPORT_FORMATS as readonly string[]).includes(rawFormat) ? (rawFormat as ExportFormat) : 'jsonl';
  if (format !== rawFormat) problems.format = `the format is ${EXPORT_FORMATS.join(' or ')}`;
  return { filter: parsed.filter, format, kept: { ...parsed.kept, format }, problems };
}
