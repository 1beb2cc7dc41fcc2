import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The layering rules of ../shared/STYLE.md and issue 11, read from the source as text: a rule
// broken names its file here.
const ROOT = path.resolve(__dirname, '..');

function filesUnder(dir: string, test: (name: string) => boolean): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(rel, test);
    return test(entry.name) ? [rel] : [];
  });
}

const isSource = (name: string) => /\.(ts|tsx)$/.test(name);
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const LIB = filesUnder('lib', isSource);

// Every module a file imports, as a path from the repository root ('@/' is the root).
function importsOf(rel: string): string[] {
  const specifiers = [...read(rel).matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((s) => (s.startsWith('@/') ? s.slice(2) : s.startsWith('.') ? path.join(path.dirname(rel), s) : s));
}

// Each kind of route enters through one of these (lib/http).
const WRAPPERS = [
  'adminRoute',
  'portalForm',
  'portalGet',
  'portalPage',
  'authHost',
  'apiRoute',
  'publicApiRoute',
  'mailboxRoute',
  'unproxiedPost',
];
const METHODS = 'GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS';

describe('the layers', () => {
  it('lib/auth imports nothing from lib/portal', () => {
    const offenders = LIB.filter((f) => f.startsWith('lib/auth/')).filter((f) =>
      importsOf(f).some((m) => m === 'lib/portal' || m.startsWith('lib/portal/')),
    );
    expect(offenders).toEqual([]);
  });

  it('only lib/http builds HTTP responses', () => {
    const offenders = LIB.filter((f) => !f.startsWith('lib/http/')).filter((f) =>
      /\bNextResponse\b|new Response\(|Response\.json\(/.test(read(f)),
    );
    expect(offenders).toEqual([]);
  });

  it('lib/api is gone (merged into lib/http)', () => {
    expect(fs.existsSync(path.join(ROOT, 'lib/api'))).toBe(false);
  });
});

describe('every route handler', () => {
  const routes = filesUnder('app', (name) => name === 'route.ts');

  it('finds the routes', () => {
    expect(routes.length).toBeGreaterThan(15);
  });

  it.each(routes)('%s exports its handlers only through a wrapper from lib/http', (rel) => {
    const text = read(rel);
    // A handler written as a function of its own (`export async function POST`, `export { POST }`) owns no wrapper.
    expect(text).not.toMatch(new RegExp(`export\\s+(async\\s+)?function\\s+(${METHODS})\\b`));
    expect(text).not.toMatch(new RegExp(`export\\s*\\{[^}]*\\b(${METHODS})\\b`));
    const exported = [...text.matchAll(new RegExp(`export\\s+const\\s+(${METHODS})\\s*=\\s*(\\w+)`, 'g'))];
    expect(exported.length).toBeGreaterThan(0);
    for (const [, method, wrapper] of exported) {
      expect(WRAPPERS, `${method} in ${rel}`).toContain(wrapper);
      expect(
        importsOf(rel).some((m) => m.startsWith('lib/http/')) &&
          new RegExp(`import\\s*\\{[^}]*\\b${wrapper}\\b[^}]*\\}\\s*from\\s*'@/lib/http/`).test(text),
      ).toBe(true);
    }
  });
});
