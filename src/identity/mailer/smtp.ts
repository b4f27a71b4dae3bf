import type { Transporter } from 'nodemailer';
import { loadOnFirstUse } from '../../shared/load-on-first-use.js';
import type { Mailer } from './mailer.js';

/**
 * SMTP delivery through nodemailer. Its own logger is off: with debug on it
 * prints message bodies, which hold one-time tokens. nodemailer loads with the
 * first message, not at start: most servers send none for a long while.
 */
export function createSmtpMailer({ url, from }: { url: string; from: string }): Mailer & { close(): void } {
  let opened: Transporter | null = null;
  const open = loadOnFirstUse(() => import('nodemailer').then(({ default: nodemailer }) => {
    // URL options: nodemailer's logger and debug are off unless asked for in the URL; never ask.
    opened = nodemailer.createTransport(url);
    return opened;
  }));
  return {
    async send(m) {
      await (await open()).sendMail({ from, to: m.to, subject: m.subject, text: m.text });
    },
    close() {
      opened?.close();
    },
  };
}
