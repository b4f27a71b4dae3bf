export interface MailMessage {
  projectId: string;
  environment: string;
  to: string;
  subject: string;
  text: string;
  /** What the mail is for, e.g. `recovery`; for the outbox listing. */
  kind: string;
}

/**
 * Delivers identity mail. Bodies carry one-time tokens, so no implementation
 * may log them: the outbox stores them for the admin API (development), SMTP
 * sends them.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}
