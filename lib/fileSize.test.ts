import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Source files stay under MAX_LINES, so each can be read as one thing: a file that grows past it is
 * split along its seams (as RoomRelay's tab streams and app.ts's per-capability wiring were), or it
 * goes in ALLOWED with the reason it cannot be. Tests (*.test.ts, e2e/) are not counted.
 */
const MAX_LINES = 400;
const FOLDERS = ['app', 'lib', 'server', 'scripts'];
const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;
const TEST = /\.(test|spec)\.(ts|tsx)$/;

/** Files allowed over MAX_LINES, each with its reason. */
const ALLOWED: Record<string, string> = {};

const root = path.resolve(__dirname, '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) out.push(...sourceFiles(rel));
    } else if (SOURCE.test(entry.name) && !TEST.test(entry.name)) out.push(rel);
  }
  return out;
}

function lineCount(file: string): number {
  const text = fs.readFileSync(path.resolve(root, file), 'utf8');
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('file size', () => {
  const files = FOLDERS.flatMap(sourceFiles);

  it(`no source file outside tests is over ${MAX_LINES} lines unless ALLOWED says why`, () => {
    expect(files.length).toBeGreaterThan(100);
    const over = files.filter((f) => !(f in ALLOWED) && lineCount(f) > MAX_LINES).map((f) => `${f}: ${lineCount(f)} lines`);
    expect(over, `split these along their seams, or add each to ALLOWED with its reason`).toEqual([]);
  });

  it('every ALLOWED entry still exists, is still over the limit and gives a reason', () => {
    const stale = Object.entries(ALLOWED)
      .filter(([f, why]) => !files.includes(f) || lineCount(f) <= MAX_LINES || why.trim().length < 20)
      .map(([f]) => f);
    expect(stale, 'remove these from ALLOWED (gone or now under the limit), or say why they are over').toEqual([]);
  });

  it('counts lines as an editor does', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'file-size-'));
    try {
      fs.writeFileSync(path.join(tmp, 'a.ts'), 'one\ntwo\n');
      fs.writeFileSync(path.join(tmp, 'b.ts'), 'one\ntwo');
      expect(lineCount(path.join(tmp, 'a.ts'))).toBe(2);
      expect(lineCount(path.join(tmp, 'b.ts'))).toBe(2);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
