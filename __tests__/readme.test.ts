import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
// Pages other branches of this change write; drop a name here once its page is in the tree.
const WRITTEN_ELSEWHERE: string[] = [];

describe('README.md', () => {
  // A landing page a newcomer reads to the end; depth lives in docs/.
  test('stays under 14 KB', () => {
    expect(Buffer.byteLength(README)).toBeLessThan(14 * 1024);
  });

  test('links only to files that exist', () => {
    const targets = [...README.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map(m => m[1]).filter(t => !/^https?:/.test(t));
    expect(targets.length).toBeGreaterThan(5);
    const missing = targets.filter(t => !fs.existsSync(path.join(ROOT, t)) && !WRITTEN_ELSEWHERE.includes(t));
    expect(missing).toEqual([]);
  });
});
