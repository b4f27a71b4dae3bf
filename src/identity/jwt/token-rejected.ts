// Owned by the access layer (a stage above identity turns these into 401s); named here for identity's own modules.
export { TokenRejected, type TokenRejectReason } from '../../access/index.js';
