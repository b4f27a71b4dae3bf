import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { newEntryId, startCapture, timePrefix, type CapturedEntry, type ReplyLike } from './capture.js';

/** A response that records what reached the "socket", with the parts of ServerResponse the capture touches. */
function fakeReply(contentType: string) {
  const sent: Buffer[] = [];
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    writableFinished: false,
    write(chunk: string | Buffer) {
      sent.push(Buffer.from(chunk));
      return true;
    },
    end(chunk?: string | Buffer | null) {
      if (chunk) sent.push(Buffer.from(chunk));
      res.writableFinished = true;
      res.emit('close');
      return res;
    },
  });
  const reply: ReplyLike = { raw: res as unknown as ServerResponse, getHeader: (n) => (n === 'content-type' ? contentType : undefined), elapsedTime: 12.4 };
  return { reply, res, sent };
}

const start = (requestBody: Buffer | null = null) => ({
  projectId: 'p', environment: 'dev', provider: 'openai', method: 'POST', path: '/v1/chat/completions', userId: 'u1',
  requestBody, requestDoc: { model: 'gpt-x' },
});

function capture(contentType: string, maxBodyBytes: number, requestBody: Buffer | null = null) {
  const f = fakeReply(contentType);
  let entry: CapturedEntry | null = null;
  const handle = startCapture(f.reply, start(requestBody), { maxBodyBytes, now: new Date('2026-11-27T10:00:00Z'), done: (e) => (entry = e) });
  return { ...f, handle, entry: () => entry };
}

describe('request log capture', () => {
  it('passes every chunk on unchanged and keeps a copy up to the cap', () => {
    const c = capture('text/event-stream', 10);
    c.res.write('data: 1\n\n');
    c.res.write(Buffer.from('data: 2\n\n'));
    c.res.end('data: [DONE]\n\n');
    expect(Buffer.concat(c.sent).toString()).toBe('data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
    expect(c.entry()!.response!.toString()).toBe('data: 1\n\nd');
    expect(c.entry()).toMatchObject({ truncated: true, status: 200, durationMs: 12, model: 'gpt-x', path: '/v1/chat/completions' });
  });

  it('cuts a request body at the cap and flags it', () => {
    const c = capture('application/json', 4, Buffer.from('{"a":1}'));
    c.res.end('{}');
    expect(c.entry()!.request!.toString()).toBe('{"a"');
    expect(c.entry()!.response!.toString()).toBe('{}');
    expect(c.entry()!.truncated).toBe(true);
  });

  it('counts bytes, not characters, in a multi-byte string', () => {
    const c = capture('application/json; charset=utf-8', 5);
    c.res.end('ééé');
    expect(c.entry()!.response!.length).toBe(5);
    expect(c.entry()!.truncated).toBe(true);
  });

  it('stores no body of a binary response, and none at all with a cap of 0', () => {
    const audio = capture('audio/mpeg', 1000);
    audio.res.end(Buffer.from([0xff, 0xfb, 0x90]));
    expect(audio.entry()!.response).toBeNull();
    const none = capture('application/json', 0, Buffer.from('{"prompt":"x"}'));
    none.res.end('{"ok":true}');
    expect(none.entry()).toMatchObject({ request: null, response: null, truncated: false });
  });

  it('a response that closes unfinished is 499; usage arriving afterwards still lands; write/end are restored', () => {
    const c = capture('text/event-stream', 100);
    const wrapped = c.res.write;
    c.res.write('data: x\n\n');
    c.res.emit('close');
    c.handle.usage({ input: 3, output: 4, total: 7, model: 'gpt-x-2026' });
    expect(c.entry()).toMatchObject({ status: 499, usage: { total: 7 }, model: 'gpt-x-2026' });
    expect(c.res.write).not.toBe(wrapped);
  });

  it('ids sort by creation time, stay ordered within a millisecond, and a moment\'s prefix bounds them', () => {
    const at = new Date('2026-11-27T10:00:00Z');
    const ids = Array.from({ length: 50 }, () => newEntryId(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    const later = newEntryId(new Date(at.getTime() + 1));
    expect(later > ids.at(-1)!).toBe(true);
    expect(ids.every((id) => id < `req_${timePrefix(at.getTime() + 1)}`)).toBe(true);
    expect(ids.every((id) => /^req_[0-9a-z]{25}$/.test(id))).toBe(true);
  });
});
