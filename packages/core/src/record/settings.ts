/** What building a record needs of the logger's options (options satisfy it; the record stage does not import them). */
export interface RecordSettings {
  maxBodyBytes: number;
  requestHeaders: ReadonlySet<string>;
  responseHeaders: ReadonlySet<string>;
  service: string | null;
  serviceVersion: string | null;
  host: string;
  /** The header that carries the request id (it is echoed back on the response), or null. */
  requestIdHeader: string | null;
}
