// The monitoring report's chart style (core's MONITOR_CSS, written for a page of its own) confined to the
// console's `.monitor` block, so its `figure`, `svg` and `.ok` rules touch nothing else in the console.
import { MONITOR_CSS } from '@inferlog/core/audit';

/** `css` (plain rules: selectors and declarations, no at-rules) with every selector inside `scope`. */
export function scopeCss(css: string, scope: string): string {
  if (css.includes('@')) throw new Error('scopeCss takes plain rules only: an at-rule would be scoped wrongly');
  return css.replace(/([^{}]+)\{([^{}]*)\}/g, (_, selectors: string, body: string) => {
    const scoped = selectors
      .split(',')
      .map((s) => `${scope} ${s.trim()}`)
      .join(', ');
    return `${scoped} {${body}}\n`;
  });
}

/** MONITOR_CSS inside `.monitor`, served before the console's own style sheet (whose rules come later and win). */
export const SCOPED_MONITOR_CSS = `/* The monitoring report's charts (from @inferlog/core), inside .monitor */\n${scopeCss(MONITOR_CSS, '.monitor')}\n`;
