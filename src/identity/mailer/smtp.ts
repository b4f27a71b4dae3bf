import type { Transporter } from 'nodemailer';
import type { Mailer } from './mailer.js';

/**
 * SMTP delivery through nodemailer. Its own logger is off: with debug on it
 * prints message bodies, which hold one-time tokens. nodemailer loads with the
 * first message, not at start: most servers send none for a long while.
 */
export function createSmtpMailer({ url, from }: { url: string; from: string }): Mailer & { close(): void } {
  let transport: Promise<Transporter> | null = null;
  let opened: Transporter | null = null;
  const open = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => {
    // URL options: nodemailer's logger and debug are off unless asked for in the URL; never ask.
    opened = nodemailer.createTransport(url);
    return opened;
  }, (error: unknown) => {
    transport = null;
    throw error;
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
