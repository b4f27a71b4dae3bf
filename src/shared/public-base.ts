import type { AddressInfo } from 'node:net';

// Where this server's public URLs start: the issuer of its tokens, the Gemini upload URL it hands
// out. One definition, so every URL a client is given names the same server.

/** Where the public URLs of this server start (GATEHOUSE_PUBLIC_URL, else the listen address). */
export interface PublicBase {
  url(): string;
  /** The same, but null before the server listens instead of the configured host and port (a guess). */
  reachableUrl(): string | null;
  /** Development without a public URL: the issuer follows the address this server listens on. */
  listenOn(server: { address(): AddressInfo | string | null }): void;
}

/**
 * GATEHOUSE_PUBLIC_URL, which production requires; never the request's Host or X-Forwarded-Host,
 * which a client could choose (and with it the `iss` a token is minted or checked with, or the
 * server the next upload chunk, with the user's token, is sent to). In
 * development without one: the address the server listens on (loopback for a wildcard address),
 * else, before it listens (in-process tests), the configured host and port. All of them are the
 * operator's choice.
 */
export function createPublicBase(config: { publicUrl?: string; tls?: unknown; host: string; port: number }): PublicBase {
  const fixed = config.publicUrl?.replace(/\/+$/, '');
  const scheme = config.tls ? 'https' : 'http';
  let server: { address(): AddressInfo | string | null } | null = null;
  // The listen address, once known: server.address() is a system call, and a token's issuer is
  // asked for on every token verified afresh (a refused forgery included).
  let listening: string | null = null;
  const origin = (host: string, port: number) => {
    const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  };
  const reachableUrl = () => {
    if (fixed) return fixed;
    if (listening !== null) return listening;
    const address = server?.address();
    if (!address || typeof address === 'string') return null;
    listening = origin(address.address, address.port);
    return listening;
  };
  return {
    url: () => reachableUrl() ?? origin(config.host, config.port),
    reachableUrl,
    listenOn(s) {
      server = s;
      listening = null;
    },
  };
}
