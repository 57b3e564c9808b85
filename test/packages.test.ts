// What each published package carries, read from `npm pack --dry-run` as a registry would receive it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const PACKAGES = ['core', 'express', 'koa', 'cli', 'embedded', 'console'];

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const manifest = (name: string): Manifest => JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8'));

function packedFiles(name: string): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(ROOT, 'packages', name),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
}

test.each(PACKAGES)('@inferlog/%s ships its README, the license and its built code', (name) => {
  const files = packedFiles(name);
  expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts']));
  for (const bin of Object.values((manifest(name) as { bin?: Record<string, string> }).bin ?? {})) expect(files).toContain(bin);
  expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
});

test('the embedded store (PGlite, about 27 MB of WASM) is an optional peer of core and the CLI, never a dependency of what production installs', () => {
  for (const name of ['core', 'express', 'koa', 'cli', 'console']) {
    const deps = Object.keys(manifest(name).dependencies ?? {});
    expect(deps.filter((d) => d.includes('pglite') || d === '@inferlog/embedded')).toEqual([]);
  }
  for (const name of ['core', 'cli']) expect(manifest(name).peerDependenciesMeta?.['@inferlog/embedded']).toEqual({ optional: true });
  expect(Object.keys(manifest('embedded').dependencies ?? {})).toEqual(['@electric-sql/pglite', '@electric-sql/pglite-socket']);
  // Nor do the type declarations of core and the CLI need it: a TypeScript user without it compiles.
  for (const name of ['core', 'cli']) {
    const dist = join(ROOT, 'packages', name, 'dist');
    const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
    expect(declarations.length).toBeGreaterThan(0);
    expect(declarations.filter((f) => /(from |import\()'@inferlog\/embedded'/.test(readFileSync(join(dist, f), 'utf8')))).toEqual([]);
  }
});

test("the adapters' type declarations name their framework's types, declared as optional peers", () => {
  for (const [name, types] of [
    ['express', '@types/express'],
    ['koa', '@types/koa'],
  ]) {
    expect(readFileSync(join(ROOT, 'packages', name, 'dist', 'index.d.ts'), 'utf8')).toMatch(new RegExp(`from '${name}'`));
    expect(manifest(name).peerDependencies?.[types]).toBeDefined();
    expect(manifest(name).peerDependenciesMeta?.[types]).toEqual({ optional: true });
  }
});

test.each([
  ['pnpm inferlog', ['--silent', 'inferlog', '--version']],
  ['pnpm exec inferlog', ['exec', 'inferlog', '--version']],
])(
  '`%s` runs the CLI from the workspace root',
  (_, args) => {
    const out = execFileSync('pnpm', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')).version);
  },
  120_000,
);
