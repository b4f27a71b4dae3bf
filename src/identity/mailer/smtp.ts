import nodemailer from 'nodemailer';
import type { Mailer } from './mailer.js';

/**
 * SMTP delivery through nodemailer. Its own logger is off: with debug on it
 * prints message bodies, which hold one-time tokens.
 */
export function createSmtpMailer({ url, from }: { url: string; from: string }): Mailer & { close(): void } {
  // URL options: nodemailer's logger and debug are off unless asked for in the URL; never ask.
  const transport = nodemailer.createTransport(url);
  return {
    async send(m) {
      await transport.sendMail({ from, to: m.to, subject: m.subject, text: m.text });
    },
    close() {
      transport.close();
    },
  };
}
