import { GatehouseError } from '../../errors/index.js';

// Deliberately plain: one @, a dot in the domain, no spaces or control
// characters, RFC 5321 length limits. Deliverability is proven by mail, not regex.
const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]{2,}$/u;

export function normalizeEmail(raw: unknown): string {
  if (typeof raw !== 'string') throw new GatehouseError('email_address_invalid', { details: { field: 'email' } });
  // NFKC first: a composed and a decomposed "é", or full-width "Ａ", must not make a second
  // account (or a second backoff counter) that looks like the first.
  const email = raw.normalize('NFKC').trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new GatehouseError('email_address_invalid', { message: 'Unable to validate email address: invalid format.', details: { field: 'email' } });
  }
  return email;
}
