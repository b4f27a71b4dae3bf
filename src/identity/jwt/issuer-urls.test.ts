import { describe, expect, it } from 'vitest';
import { createIssuerUrls, createPublicBase } from './issuer-urls.js';

const listening = (address: string, port: number) => ({ address: () => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' }) });

describe('issuer URLs', () => {
  it('the public URL wins over any listen address, without its trailing slash', () => {
    const base = createPublicBase({ publicUrl: 'https://api.example.com//', host: '0.0.0.0', port: 8080 });
    base.listenOn(listening('10.0.0.5', 9999));
    const urls = createIssuerUrls(base, 'https://api.example.com/');
    expect(urls.of('abcdefghijklmnop', 'prod')).toBe('https://api.example.com/auth/v1/projects/abcdefghijklmnop/prod');
    expect(urls.jwksUrl('abcdefghijklmnop', 'prod')).toBe('https://api.example.com/auth/v1/projects/abcdefghijklmnop/prod/.well-known/jwks.json');
    expect(urls.legacy).toBe('https://api.example.com/auth/v1');
  });

  it('without one: the configured address until the server listens, then the bound one (loopback for a wildcard)', () => {
    const base = createPublicBase({ host: '0.0.0.0', port: 8080 });
    expect(base.url()).toBe('http://127.0.0.1:8080');
    base.listenOn(listening('::', 41234));
    expect(base.url()).toBe('http://[::1]:41234');
    const tls = createPublicBase({ host: '127.0.0.1', port: 8443, tls: {} });
    expect(tls.url()).toBe('https://127.0.0.1:8443');
  });

  it('knows its own issuers and the legacy one, nobody else\'s', () => {
    const urls = createIssuerUrls(createPublicBase({ host: '127.0.0.1', port: 8080 }), 'urn:gatehouse');
    expect(urls.legacy).toBe('urn:gatehouse/auth/v1');
    expect(urls.isOwn(urls.of('abcdefghijklmnop', 'dev'))).toBe(true);
    expect(urls.isOwn('urn:gatehouse/auth/v1')).toBe(true);
    expect(urls.isOwn('http://127.0.0.1:8080/auth/v1')).toBe(false);
    expect(urls.isOwn('http://127.0.0.1:8080/auth/v1/projectsX/a/dev')).toBe(false);
    expect(urls.isOwn('https://abc.supabase.co/auth/v1')).toBe(false);
  });
});
