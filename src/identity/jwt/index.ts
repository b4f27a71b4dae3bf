export { createSigningKeyService, findVerificationKey, SIGNING_ALGS, type SigningKeyService, type SigningAlg, type SigningKeySummary, type VerificationKey } from './signing-keys.js';
export { createAccessTokenService, accessClaimsFor, ACCESS_TOKEN_AUDIENCE, type AccessTokenService, type AccessTokenClaims, type IssuedAccessToken } from './access-tokens.js';
export { checkHeader, decodeUnverified, MAX_TOKEN_LENGTH, type UnverifiedToken } from './header-checks.js';
export { verifySignatureAndClaims, type ClaimRules } from './claims.js';
export { TokenRejected, type TokenRejectReason } from './token-rejected.js';
export { createIssuerUrls, createPublicBase, ISSUERS_UNDER_AUTH, type IssuerUrls, type PublicBase } from './issuer-urls.js';
