import { describe, expect, it } from 'vitest';
import { withoutPassword } from './backup-postgres.js';

// pg_dump and pg_restore get the database URL on their command line, which every user of the
// machine can read (`ps`): the password must travel in PGPASSWORD, wherever the URL held it.
describe('withoutPassword', () => {
  it('moves a userinfo password to PGPASSWORD', () => {
    const { url, env } = withoutPassword('postgres://gate:s3cr%40t@db.internal:5432/gatehouse');
    expect(url).toBe('postgres://gate@db.internal:5432/gatehouse');
    expect(env).toEqual({ PGPASSWORD: 's3cr@t' });
  });

  it('moves libpq\'s ?password= query parameter too, keeping the other parameters', () => {
    const { url, env } = withoutPassword('postgres://gate@db.internal/gatehouse?sslmode=require&password=hunter2');
    expect(url).not.toContain('hunter2');
    expect(new URL(url).searchParams.get('sslmode')).toBe('require');
    expect(env).toEqual({ PGPASSWORD: 'hunter2' });
  });

  it('sets nothing when the URL holds no password', () => {
    expect(withoutPassword('postgres://gate@db.internal/gatehouse')).toEqual({ url: 'postgres://gate@db.internal/gatehouse', env: {} });
  });
});
