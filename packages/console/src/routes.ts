import type { ConsoleContext } from './context';
import type { Page } from './layout';
import { exportForm, exportRun } from './pages/export';
import { chainFragment, inferencePage } from './pages/inference';
import { monitorPage } from './pages/monitor';
import { recordsPage } from './pages/records';
import { statsPage } from './pages/stats';
import { verifyForm, verifyRun } from './pages/verify';
import { redirect, type RawResponse } from './response';

/** A page of the console: its method, its path (captures become `ctx.params`), and what answers it. */
export interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handle(ctx: ConsoleContext): Promise<Page | RawResponse> | Page | RawResponse;
}

/** Every page. GET reads; the two POSTs are the actions (verify, export), which only the console's own forms may send. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: /^\/$/, handle: (ctx) => redirect(ctx.href('/records'), 302) },
  { method: 'GET', path: /^\/records$/, handle: recordsPage },
  { method: 'GET', path: /^\/inferences\/([^/]+)$/, handle: inferencePage },
  { method: 'GET', path: /^\/inferences\/([^/]+)\/chain$/, handle: chainFragment },
  { method: 'GET', path: /^\/stats$/, handle: statsPage },
  { method: 'GET', path: /^\/monitor$/, handle: monitorPage },
  { method: 'GET', path: /^\/verify$/, handle: verifyForm },
  { method: 'POST', path: /^\/verify$/, handle: verifyRun },
  { method: 'GET', path: /^\/export$/, handle: exportForm },
  { method: 'POST', path: /^\/export$/, handle: exportRun },
];
