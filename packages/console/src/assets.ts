// The console's files, all shipped with the package and read once: its style sheet and script, and
// uPlot (an installed dependency). Nothing is fetched from elsewhere, so the console works offline.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MONITOR_CSS } from '@inferlog/core/audit';
import type { RawResponse } from './response';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const ROOT = join(__dirname, '..');
const UPLOT = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));

const FILES: Record<string, [path: string, type: string]> = {
  'console.css': [join(ROOT, 'assets', 'console.css'), 'text/css; charset=utf-8'],
  'favicon.svg': [join(ROOT, 'assets', 'favicon.svg'), 'image/svg+xml'],
  'console.js': [join(ROOT, 'dist', 'client', 'console.js'), 'text/javascript; charset=utf-8'],
  'uPlot.iife.min.js': [join(UPLOT, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  'uPlot.min.css': [join(UPLOT, 'uPlot.min.css'), 'text/css; charset=utf-8'],
};

let loaded: Map<string, Asset> | null = null;

function load(): Map<string, Asset> {
  if (loaded) return loaded;
  const assets = new Map<string, Asset>();
  for (const [name, [path, type]] of Object.entries(FILES)) {
    // The monitoring page's charts are styled by core's MONITOR_CSS (inside `.monitor`): one style sheet, so
    // it is served in it, first, so that the console's own rules (dark mode) come after and win.
    const body = name === 'console.css' ? Buffer.concat([Buffer.from(MONITOR_CSS), readFileSync(path)]) : readFileSync(path);
    assets.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  loaded = assets;
  return assets;
}

/** An asset by name, or null for a name that is not one; revalidated by ETag. */
export function assetResponse(name: string, ifNoneMatch: string | undefined): RawResponse | null {
  const asset = load().get(name);
  if (!asset) return null;
  const headers = { 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache' };
  if (ifNoneMatch === asset.etag) return { kind: 'raw', status: 304, headers, body: null };
  return { kind: 'raw', status: 200, headers, body: asset.body };
}
