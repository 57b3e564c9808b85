/** One server-sent event: its `event:` name (null for the default "message") and its joined `data:` lines. */
export interface SseEvent {
  event: string | null;
  data: string;
  /** Index in the stream's text of the event's first line. */
  start: number;
  /** False for a last event that the stream ended inside (no blank line after it). */
  complete: boolean;
}

const LINE = /\r\n|\r|\n/g;

/**
 * Splits an event stream (WHATWG "server-sent events" parsing: fields `event` and `data`, comments
 * starting with ":", an event ends at a blank line) into its events. A last event the stream was cut
 * inside is returned too, marked incomplete, so what arrived is not lost.
 */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let event: string | null = null;
  let data: string[] = [];
  let start = -1;
  let lineStart = 0;
  const dispatch = (complete: boolean) => {
    if (data.length > 0) events.push({ event, data: data.join('\n'), start, complete });
    event = null;
    data = [];
    start = -1;
  };
  const line = (content: string, at: number) => {
    if (content === '') return dispatch(true);
    if (content.startsWith(':')) return;
    const colon = content.indexOf(':');
    const field = colon === -1 ? content : content.slice(0, colon);
    let value = colon === -1 ? '' : content.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (start === -1) start = at;
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  };
  LINE.lastIndex = 0;
  for (let found = LINE.exec(text); found; found = LINE.exec(text)) {
    line(text.slice(lineStart, found.index), lineStart);
    lineStart = found.index + found[0].length;
  }
  if (lineStart < text.length) line(text.slice(lineStart), lineStart);
  dispatch(false);
  return events;
}
