// The record filter as a form: read from a URL's query (or a POSTed form), shown back in the form with
// what was wrong with each field, and passed on in links (the next page keeps the filter).
import { html, parseAnnotation, parseInstant, parseStatus, type Html, type RecordFilter } from '@inferlog/core/audit';
import { textField } from './render/fields';

/** The filter fields, as query parameters, with their labels and hints. */
export const FILTER_FIELDS = [
  ['since', 'Since', '24h, 7d, 2026-05-01'],
  ['until', 'Until', 'now, 2026-05-02T12:00Z'],
  ['model', 'Model', 'exact name'],
  ['version', 'Version', 'exact version'],
  ['status', 'Status', '200, 4xx, 5xx, none'],
  ['protocol', 'Protocol', 'oip-v2, openai, …'],
  ['route', 'Route', '/v2/models/:model/infer'],
  ['annotation', 'Annotation', 'tenant=acme'],
  ['request_id', 'Request id', 'exact id'],
] as const;

export type FilterField = (typeof FILTER_FIELDS)[number][0];

/** A filter read from parameters: what it selects, the parameters to keep in links, and each field's problem. */
export interface ParsedFilter {
  filter: RecordFilter;
  /** The non-empty filter fields as given, for links and the form. */
  kept: Record<string, string>;
  /** Field → what is wrong with it. A wrong field is left out of `filter`. */
  problems: Partial<Record<FilterField, string>>;
}

const MAX_FIELD = 1000;

/** Reads the filter fields of `params`; a field that cannot be read is named in `problems`, never thrown. */
export function parseFilter(params: URLSearchParams, now = new Date()): ParsedFilter {
  const filter: RecordFilter = {};
  const kept: Record<string, string> = {};
  const problems: ParsedFilter['problems'] = {};
  for (const [name] of FILTER_FIELDS) {
    const raw = params.get(name);
    if (raw === null || raw.trim() === '') continue;
    const value = raw.length > MAX_FIELD ? raw.slice(0, MAX_FIELD) : raw;
    kept[name] = value;
    try {
      switch (name) {
        case 'since':
          filter.since = parseInstant(value, 'since', now);
          break;
        case 'until':
          filter.until = parseInstant(value, 'until', now);
          break;
        case 'model':
          filter.model = value;
          break;
        case 'version':
          filter.version = value;
          break;
        case 'status':
          filter.status = parseStatus(value);
          break;
        case 'protocol':
          filter.protocol = value.trim();
          break;
        case 'route':
          filter.route = value;
          break;
        case 'annotation':
          filter.annotations = [parseAnnotation(value)];
          break;
        case 'request_id':
          filter.requestId = value;
          break;
      }
    } catch (err) {
      problems[name] = (err as Error).message.replace(/^inferlog: /, '');
    }
  }
  if (filter.since && filter.until && filter.since >= filter.until) {
    problems.until = 'until must be later than since';
    delete filter.until;
  }
  return { filter, kept, problems };
}

/** The filter form: every field with its value, a problem under any field that has one, Apply and Clear. */
export function filterForm(
  action: string,
  clear: string,
  parsed: ParsedFilter,
  fields: readonly FilterField[] = FILTER_FIELDS.map(([f]) => f),
  extra: Html | string = '',
): Html {
  return html`<form class="filters" method="get" action="${action}" role="search" aria-label="Filter records">
${FILTER_FIELDS.filter(([name]) => fields.includes(name)).map(([name, label, placeholder]) =>
  textField({ name, label, value: parsed.kept[name], placeholder, problem: parsed.problems[name] }),
)}
${extra}
<div class="actions"><button type="submit">Apply</button><a class="button secondary" href="${clear}">Clear</a></div>
</form>`;
}
