export { createJwksCache, type JwksCache, type JwksCacheOptions } from './jwks-cache.js';
export { createIssuerService, normalizeIssuer, FIREBASE_JWKS_URL, type Issuer, type IssuerInput, type IssuerKind, type IssuerService } from './issuers.js';
export { createExternalVerifier, type ExternalVerifier } from './verifier.js';
