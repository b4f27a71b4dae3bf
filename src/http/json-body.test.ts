import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors/index.js';
import { parseJsonText } from './json-body.js';

const limits = { maxDepth: 64, maxKeys: 10_000 };

function codeOf(text: string): string | null {
  try {
    parseJsonText(text, limits);
    return null;
  } catch (error) {
    return error instanceof GatehouseError ? error.code : 'not a GatehouseError';
  }
}

describe('parseJsonText: an object names each key once', () => {
  it.each([
    ['flat', '{"file_id":"file-theirs","file_id":"file-mine"}'],
    ['nested in an object', '{"model":"m","tool_resources":{"code_interpreter":{"file_ids":["a"],"file_ids":["b"]}}}'],
    ['nested in an array', '{"messages":[{"role":"user"},{"role":"user","attachments":[{"file_id":"x","file_id":"y"}]}]}'],
    ['escaped spelling', '{"a":1,"\\u0061":2}'],
    ['escaped spelling of a reference key', '{"thread_id":"t1","thread\\u005fid":"t2"}'],
    ['whitespace before the colon', '{"assistant_id" : "a1",\n  "assistant_id"\t:\r\n"a2"}'],
    ['same value twice', '{"x":1,"x":1}'],
    ['a key that is an empty string', '{"":1,"":2}'],
  ])('refuses a duplicate key: %s', (_name, text) => {
    expect(codeOf(text)).toBe('json_duplicate_key');
  });

  it.each([
    ['same key in sibling objects', '{"a":{"id":1},"b":{"id":2},"c":[{"id":3},{"id":4}]}'],
    ['colons and quotes inside string values', '{"content":"\\"file_id\\": \\"x\\", \\"file_id\\":","file_id":"f"}'],
    ['backslash runs before quotes', '{"a\\\\":"\\\\","b":"\\\\\\"","c":"\\\\\\\\"}'],
    ['strings in arrays followed by colons in later strings', '["a", "b:", ":c", {"k":"v"}]'],
    ['a top-level string', '"just: a string"'],
    ['unicode keys that differ', '{"é":1,"e\\u0301":2,"\\u00e9x":3}'],
    ['keys that differ only in case', '{"File_id":1,"file_id":2}'],
  ])('accepts distinct keys: %s', (_name, text) => {
    expect(codeOf(text)).toBeNull();
  });

  it('finds no duplicate in documents JSON.stringify wrote, whatever their strings hold', () => {
    const tricky = ['"', '\\', '\\"', '":', '" :', '\\\\":', '\u2028', '\0', 'é', '{"a":1}'];
    for (let i = 0; i < 500; i++) {
      const doc: Record<string, unknown> = {};
      for (let k = 0; k < 6; k++) doc[`${tricky[(i + k) % tricky.length]}${k}`] = { [tricky[(i * 7 + k) % tricky.length]!]: [tricky[i % tricky.length], k] };
      expect(codeOf(JSON.stringify(doc, null, i % 2 === 0 ? 0 : 2))).toBeNull();
    }
  });

  it('keeps the other refusals: invalid JSON, prototype keys, complexity', () => {
    expect(codeOf('{"a":')).toBe('invalid_json');
    expect(codeOf('{"__proto__":{"x":1}}')).toBe('invalid_json');
    expect(() => parseJsonText('[[[1]]]', { maxDepth: 2, maxKeys: 10 })).toThrow(expect.objectContaining({ code: 'json_too_complex' }));
  });
});
