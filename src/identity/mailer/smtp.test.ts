import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer } from './smtp.js';

/** Just enough SMTP (RFC 5321) to accept one message on loopback and keep its DATA. */
async function startSmtpSink(): Promise<{ port: number; messages: string[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const server: Server = createServer((socket) => {
    let inData = false;
    let data = '';
    let buffer = '';
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let index: number;
      while ((index = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push(data);
            data = '';
            socket.write('250 OK queued\r\n');
          } else data += `${line}\n`;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-sink\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') { inData = true; socket.write('354 go ahead\r\n'); }
        else if (verb === 'QUIT') { socket.write('221 bye\r\n'); socket.end(); }
        else socket.write('250 OK\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('SMTP mailer', () => {
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  beforeAll(async () => { sink = await startSmtpSink(); });
  afterAll(async () => { await sink.close(); });

  it('delivers the message through nodemailer to the SMTP server', async () => {
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${sink.port}/?ignoreTLS=true`, from: 'Gatehouse <no-reply@example.test>' });
    await mailer.send({ projectId: 'p', environment: 'dev', to: 'ada@example.test', subject: 'Reset your password', text: 'code: abc123', kind: 'recovery' });
    mailer.close();
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toContain('To: ada@example.test');
    expect(sink.messages[0]).toContain('Subject: Reset your password');
    expect(sink.messages[0]).toContain('code: abc123');
  });
});
