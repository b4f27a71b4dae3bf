export type { Mailer, MailMessage } from './mailer.js';
export { createOutbox, type Outbox, type OutboxEntry } from './outbox.js';
export { createSmtpMailer } from './smtp.js';
