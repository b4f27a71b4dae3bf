import type { UserRow } from './store.js';

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function appMetadataOf(row: UserRow): Record<string, unknown> {
  const provider = row.issuer_id ? 'external' : 'email';
  return { provider, providers: [provider], ...parseObject(row.app_metadata), ...(row.role === 'admin' ? { gatehouse_role: 'admin' } : {}) };
}

export function userMetadataOf(row: UserRow): Record<string, unknown> {
  return parseObject(row.user_metadata);
}

/** GoTrue's user object, as supabase-js types it (`User`). Never includes the hash. */
export function toUserJson(row: UserRow) {
  return {
    id: row.id,
    aud: 'authenticated',
    role: row.role,
    email: row.email ?? '',
    email_confirmed_at: row.email_confirmed_at,
    phone: '',
    confirmed_at: row.email_confirmed_at,
    last_sign_in_at: row.last_sign_in_at,
    app_metadata: appMetadataOf(row),
    user_metadata: userMetadataOf(row),
    identities: [],
    created_at: row.created_at,
    updated_at: row.updated_at,
    is_anonymous: false,
    // GoTrue shows a pending change (and omits both fields when there is none). The
    // address in `email`, and in the token's claim, stays the confirmed one until then.
    ...(row.email_change ? { new_email: row.email_change, email_change_sent_at: row.email_change_sent_at ?? undefined } : {}),
  };
}

export type UserJson = ReturnType<typeof toUserJson>;
