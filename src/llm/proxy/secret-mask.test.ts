import { describe, expect, it } from 'vitest';
import { chunkMasker, maskSecret, maskSecretText, secretNeedle } from './secret-mask.js';

const KEY = 'sk-proj-ABCDEFGHIJKLMNOP';
const MASK = '*'.repeat(KEY.length);
const needle = secretNeedle({ apiKey: KEY });

/** What leaves when a stream of these chunks is masked chunk by chunk, as the proxy does. */
function through(chunks: string[]): string {
  const mask = chunkMasker(needle)!;
  return chunks.map((c) => {
    const bytes = Buffer.from(c);
    mask(bytes);
    return bytes.toString();
  }).join('');
}

describe('the provider key is masked wherever it appears', () => {
  it('in a whole body, every occurrence, same length', () => {
    expect(maskSecret(Buffer.from(`a ${KEY} b ${KEY}`), needle).toString()).toBe(`a ${MASK} b ${MASK}`);
    expect(maskSecretText(`Bearer ${KEY}`, KEY)).toBe(`Bearer ${MASK}`);
    expect(maskSecret(Buffer.from('nothing here'), null).toString()).toBe('nothing here');
  });

  it('in a stream, split across chunks at every position: the key never leaves, at most its first 3 bytes do', () => {
    const text = `data: {"x":"${KEY}"}\n\n`;
    const at = text.indexOf(KEY);
    for (let cut = 1; cut < text.length; cut++) {
      // A cut 1–3 bytes into the key lets those bytes (its public prefix) leave before the next
      // chunk shows they were the key; everything after them is masked.
      const shown = cut > at && cut < at + 4 ? cut - at : 0;
      const expected = `data: {"x":"${KEY.slice(0, shown)}${'*'.repeat(KEY.length - shown)}"}\n\n`;
      expect(through([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toBe(expected);
    }
    // One byte at a time: the first byte leaves, the rest is masked.
    expect(through([...text])).toBe(`data: {"x":"s${'*'.repeat(KEY.length - 1)}"}\n\n`);
    // Split in three, the middle chunk wholly inside the key.
    expect(through([text.slice(0, at + 5), text.slice(at + 5, at + 10), text.slice(at + 10)])).toBe(`data: {"x":"${'*'.repeat(KEY.length)}"}\n\n`);
  });

  it('a chunk that ends with 4 or more bytes of the key is masked as it leaves; a lone first letter is left alone', () => {
    expect(through(['x', `yz ${KEY.slice(0, 15)}`])).toBe(`xyz ${'*'.repeat(15)}`);
    expect(maskSecret(Buffer.from(`end ${KEY.slice(0, 15)}`), needle).toString()).toBe(`end ${'*'.repeat(15)}`);
    expect(through(['this ends in s', ' and goes on'])).toBe('this ends in s and goes on');
  });

  it('a provider without a key has nothing to mask', () => {
    expect(chunkMasker(null)).toBeNull();
  });
});
