// The console's only script (served from the package; the policy allows no other): it loads the chain
// verdict of an inference, draws the charts with uPlot, and adds keyboard shortcuts. Every page works
// without it: the verdict has its own page, and every chart has a table of the same figures.
/// <reference path="../node_modules/uplot/dist/uPlot.d.ts" />

interface ChartSpec {
  title: string;
  unit: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  bars?: boolean;
}

const PALETTE = ['#0a58ca', '#d63384', '#198754', '#fd7e14', '#6f42c1', '#20c997', '#dc3545', '#6c757d'];

function loadChainVerdicts(): void {
  for (const box of document.querySelectorAll<HTMLElement>('[data-chain-src]')) {
    const src = box.dataset.chainSrc;
    if (!src) continue;
    const status = document.createElement('p');
    status.className = 'hint';
    status.textContent = 'Checking the chain from its first row up to this record…';
    box.append(status);
    fetch(`${src}?fragment=1`, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(async (res) => {
        if (!res.ok) throw new Error(`the console answered ${res.status}`);
        // Markup the console made, every logged value in it escaped on the server.
        const fragment = document.createRange().createContextualFragment(await res.text());
        box.replaceChildren(fragment);
      })
      .catch((err: Error) => {
        status.textContent = `The chain could not be checked here (${err.message}): use the link above.`;
      });
  }
}

function drawCharts(): void {
  if (typeof uPlot === 'undefined') return;
  for (const area of document.querySelectorAll<HTMLElement>('[data-chart]')) {
    const data = document.getElementById(area.dataset.chart ?? '');
    if (!data?.textContent) continue;
    const spec = JSON.parse(data.textContent) as ChartSpec;
    const width = Math.max(300, area.clientWidth || 520);
    const bars = spec.bars ? uPlot.paths.bars?.({ size: [0.7, 40] }) : undefined;
    const options: uPlot.Options = {
      width,
      height: 220,
      // One day alone would stretch the axis over years: a day either side of it.
      scales: { x: spec.x.length === 1 ? { time: true, range: [spec.x[0]! - 86_400, spec.x[0]! + 86_400] } : { time: true } },
      axes: [{}, { label: spec.unit, size: 60 }],
      series: [
        { label: 'day (UTC)', value: (_u, v) => (v === null ? '–' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...spec.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          ...(bars ? { paths: bars, fill: `${PALETTE[i % PALETTE.length]}55` } : { points: { show: true } }),
        })),
      ],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    };
    area.replaceChildren();
    new uPlot(options, [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, area);
  }
}

/** `/` focuses the first filter field; `j` and `k` move between the records of a list. */
function keyboard(): void {
  document.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    if (event.ctrlKey || event.metaKey || event.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    if (event.key === '/') {
      const field = document.querySelector<HTMLInputElement>('form.filters input');
      if (field) {
        event.preventDefault();
        field.focus();
      }
    } else if (event.key === 'j' || event.key === 'k') {
      const links = [...document.querySelectorAll<HTMLAnchorElement>('table.records td.time a')];
      if (!links.length) return;
      const at = links.indexOf(document.activeElement as HTMLAnchorElement);
      const next = event.key === 'j' ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[at === -1 ? 0 : next]?.focus();
      event.preventDefault();
    }
  });
}

/** A form marked `data-busy` says what it is doing once sent (an export or a verification takes a while). */
function busyForms(): void {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-busy]')) {
    form.addEventListener('submit', () => {
      const note = form.querySelector<HTMLElement>('.busy');
      if (note) note.textContent = form.dataset.busy ?? '';
    });
  }
}

document.addEventListener('DOMContentLoaded', () => {
  loadChainVerdicts();
  drawCharts();
  keyboard();
  busyForms();
});
