/**
 * lab.config.schema.json as an editor uses it: ajv compiles the committed file (not the TypeBox
 * object) and checks documents the way yaml-language-server does while the user types.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { ALLOWED_KEYWORD, DEFAULT_LAB_CONFIG, labConfigJsonSchema } from '../lib/config-schema';

const SCHEMA_FILE = path.join(__dirname, '..', 'lab.config.schema.json');
const committed = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));

// Editors ignore keywords they do not know; so does this check.
const editorCheck = new Ajv({ allErrors: true, strict: false }).compile(committed);
const errorsFor = (doc: unknown) => (editorCheck(doc) ? [] : editorCheck.errors!.map(e => ({ at: e.instancePath, keyword: e.keyword, params: e.params })));

describe('lab.config.schema.json', () => {
  test('is what `npm run gen:schema` writes from lib/config-schema.ts (run it and commit when this fails)', () => {
    expect(committed).toEqual(labConfigJsonSchema());
  });

  test('is a clean draft-07 schema: ajv strict mode compiles it, given only the annotation keyword', () => {
    const ajv = new Ajv({ strict: true });
    ajv.addKeyword(ALLOWED_KEYWORD);
    expect(() => ajv.compile(committed)).not.toThrow();
    expect(committed.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  test('accepts the defaults and an empty document', () => {
    expect(errorsFor(DEFAULT_LAB_CONFIG)).toEqual([]);
    expect(errorsFor({})).toEqual([]);
  });

  test('fails if a key is typo\'d, naming the key', () => {
    expect(errorsFor({ pools: { ipv4: { cidrr: '10.10.0.0/16' } } }))
      .toEqual([{ at: '/pools/ipv4', keyword: 'additionalProperties', params: { additionalProperty: 'cidrr' } }]);
  });

  test.each<[string, unknown, string]>([
    ['a value is out of range', { pools: { ipv6: { blockSize: 130 } } }, 'maximum'],
    ['there are no workers', { workers: 0 }, 'minimum'],
    ['an encapsulation mode is misspelled', { pools: { ipv4: { vxlanMode: 'always' } } }, 'enum'],
    ['the cluster name is not a DNS-1123 label', { clusterName: 'My_Lab' }, 'pattern'],
  ])('fails if %s', (_what, doc, keyword) => {
    expect(errorsFor(doc).map(e => e.keyword)).toEqual([keyword]);
  });

  test('every key has a description the editor shows', () => {
    const walk = (s: any, at: string): string[] => [
      ...(s.description ? [] : [at]),
      ...Object.entries(s.properties ?? {}).flatMap(([k, v]) => walk(v, `${at}.${k}`)),
    ];
    expect(walk(committed, '(root)')).toEqual([]);
  });

  // The README's example is what users copy: its first line points the editor at this file.
  test("README's configuration example starts with the yaml-language-server line and passes the editor check", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Configuration'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1];
    expect(example.split('\n')[0]).toBe('# yaml-language-server: $schema=./lab.config.schema.json');
    expect(errorsFor(parse(example))).toEqual([]);
  });
});
