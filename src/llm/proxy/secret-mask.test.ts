import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { maskingStream, maskSecret, maskSecretText, secretNeedle } from './secret-mask.js';

const KEY = 'sk-proj-ABCDEFGHIJKLMNOP';
const MASK = '*'.repeat(KEY.length);
const needle = secretNeedle({ apiKey: KEY });

async function through(chunks: string[]): Promise<{ out: string; seen: string; ended: boolean }> {
  let seen = '';
  let ended = false;
  const out: Buffer[] = [];
  const stream = Readable.from(chunks.map((c) => Buffer.from(c))).pipe(maskingStream(needle, { chunk: (b) => (seen += b.toString()), end: () => (ended = true) }));
  for await (const chunk of stream) out.push(chunk as Buffer);
  return { out: Buffer.concat(out).toString(), seen, ended };
}

describe('the provider key is masked wherever it appears', () => {
  it('in a whole body, every occurrence, same length', () => {
    expect(maskSecret(Buffer.from(`a ${KEY} b ${KEY}`), needle).toString()).toBe(`a ${MASK} b ${MASK}`);
    expect(maskSecretText(`Bearer ${KEY}`, KEY)).toBe(`Bearer ${MASK}`);
    expect(maskSecret(Buffer.from('nothing here'), null).toString()).toBe('nothing here');
  });

  it('in a stream, split across chunks at every position', async () => {
    const text = `data: {"x":"${KEY}"}\n\n`;
    for (let cut = 1; cut < text.length; cut++) {
      const { out, seen, ended } = await through([text.slice(0, cut), text.slice(cut)]);
      expect(out, `cut at ${cut}`).toBe(`data: {"x":"${MASK}"}\n\n`);
      expect(seen).toBe(out);
      expect(ended).toBe(true);
    }
    // One byte at a time.
    expect((await through([...text])).out).toBe(`data: {"x":"${MASK}"}\n\n`);
  });

  it('a body that ends inside the key hides the part it shows; a lone first letter is left alone', async () => {
    expect((await through(['x', `yz ${KEY.slice(0, 15)}`])).out).toBe(`xyz ${'*'.repeat(15)}`);
    expect(maskSecret(Buffer.from(`end ${KEY.slice(0, 15)}`), needle).toString()).toBe(`end ${'*'.repeat(15)}`);
    expect((await through(['this ends in s'])).out).toBe('this ends in s');
  });

  it('a provider without a key passes chunks untouched', async () => {
    let seen = '';
    const out: Buffer[] = [];
    for await (const c of Readable.from([Buffer.from(KEY)]).pipe(maskingStream(null, { chunk: (b) => (seen += b.toString()) }))) out.push(c as Buffer);
    expect(Buffer.concat(out).toString()).toBe(KEY);
    expect(seen).toBe(KEY);
  });
});
