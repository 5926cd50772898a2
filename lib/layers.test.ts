import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Imports point down only: app → lib/browser → lib/shared; server → lib/shared. A file's folder says
 * where it runs, so a browser file must not pull in Node (it would break the page's bundle or leak
 * server code into it), and shared code must run on both sides.
 */
const root = path.resolve(__dirname, '..');
const NODE_ONLY_PACKAGES = ['better-sqlite3', 'drizzle-orm', 'pino', 'ws', 'playwright-core', 'next-auth', '@xterm/headless', 'ipaddr.js', 'undici', 'dns-packet'];
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|tsx)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name)) out.push(rel);
  }
  return out;
}

/** Import specifiers of a file (static, dynamic, re-exports; type-only imports count too). */
function importsOf(file: string): string[] {
  const src = fs.readFileSync(path.join(root, file), 'utf8');
  const specs: string[] = [];
  for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) specs.push(m[1]);
  return specs;
}

/** What an import reaches: a repository folder for relative ones, else the package. */
function target(file: string, spec: string): { local?: string; pkg?: string } {
  if (spec.startsWith('.')) return { local: path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) };
  return { pkg: spec };
}

/** next-auth's `react` entry is its browser client; the rest of next-auth runs on the server. */
const BROWSER_ENTRIES = ['next-auth/react'];
const isNode = (pkg: string) =>
  builtins.has(pkg) || (!BROWSER_ENTRIES.includes(pkg) && NODE_ONLY_PACKAGES.some((p) => pkg === p || pkg.startsWith(`${p}/`)));
const isClientComponent = (file: string) => /^\s*['"]use client['"]/.test(fs.readFileSync(path.join(root, file), 'utf8'));

function violations(files: string[], rule: (t: { local?: string; pkg?: string }) => string | null): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const spec of importsOf(file)) {
      const why = rule(target(file, spec));
      if (why) found.push(`${file} imports ${spec}: ${why}`);
    }
  }
  return found;
}

describe('import direction', () => {
  it('lib/shared imports neither the browser side, the server, nor Node', () => {
    expect(violations(sourceFiles('lib/shared'), (t) => {
      if (t.local && !t.local.startsWith('lib/shared/')) return 'shared code imports only shared code';
      if (t.pkg && isNode(t.pkg)) return 'Node-only module in shared code';
      return null;
    })).toEqual([]);
  });

  it('lib/browser imports no server code and no Node module', () => {
    expect(violations(sourceFiles('lib/browser'), (t) => {
      if (t.local && !t.local.startsWith('lib/')) return 'browser code imports only lib/';
      if (t.pkg && isNode(t.pkg)) return 'Node-only module in browser code';
      return null;
    })).toEqual([]);
  });

  it('nothing in lib imports the server', () => {
    expect(violations(sourceFiles('lib'), (t) => (t.local?.startsWith('server/') ? 'lib imports server' : null))).toEqual([]);
  });

  it('the server never imports browser code or pages', () => {
    expect(violations(sourceFiles('server'), (t) =>
      t.local && (t.local.startsWith('lib/browser/') || t.local.startsWith('app/')) ? 'server imports the browser side' : null)).toEqual([]);
  });

  it("client components import neither server code nor Node", () => {
    const clients = sourceFiles('app').filter(isClientComponent);
    expect(clients.length).toBeGreaterThan(5);
    expect(violations(clients, (t) => {
      if (t.local?.startsWith('server/')) return 'client component imports the server';
      if (t.pkg && isNode(t.pkg)) return 'Node-only module in a client component';
      return null;
    })).toEqual([]);
  });

  it('the rule itself catches an upward import', () => {
    expect(target('lib/shared/x.ts', '../../server/db')).toEqual({ local: 'server/db' });
    expect(isNode('node:fs')).toBe(true);
    expect(isNode('fs')).toBe(true);
    expect(isNode('drizzle-orm/better-sqlite3')).toBe(true);
    expect(isNode('zod')).toBe(false);
    expect(isNode('next-auth/react')).toBe(false);
  });
});
