import type { Migration } from 'kysely';
import type { EngineName } from '../database.js';
import { coreMigration } from './0001-core.js';
import { identityMigration } from './0002-identity.js';
import { llmMigration } from './0004-llm.js';
import { limitsMigration } from './0005-limits.js';
import { llmRequestLogMigration } from './0006-llm-request-log.js';
import { llmDeferredUsageMigration } from './0007-llm-deferred-usage.js';
import { llmResourceParentMigration } from './0008-llm-resource-parent.js';
import { apiKeyCreatorMigration } from './0009-api-key-creator.js';
import { dataMigration } from './0003-data.js';
import { emailChangeMigration } from './0010-email-change.js';
import { securityEventRetentionMigration } from './0011-security-event-retention.js';
import { auditChainMigration } from './0012-audit-chain.js';
import { storageMigration } from './0013-storage.js';
import { realtimeMigration } from './0014-realtime.js';
import { operatorsMigration } from './0015-operators.js';
import { requestStatsMigration } from './0016-request-stats.js';
import { realtimeChannelsMigration } from './0017-realtime-channels.js';

/**
 * Every migration, in order. Names are permanent: they are recorded in the
 * database. Each capability appends its own file; never edit a shipped one.
 */
export function allMigrations(engine: EngineName): Record<string, Migration> {
  return {
    '0001-core': coreMigration(engine),
    '0002-identity': identityMigration(engine),
    '0004-llm': llmMigration(engine),
    '0005-limits': limitsMigration(engine),
    '0006-llm-request-log': llmRequestLogMigration(engine),
    '0007-llm-deferred-usage': llmDeferredUsageMigration(engine),
    '0008-llm-resource-parent': llmResourceParentMigration(engine),
    '0009-api-key-creator': apiKeyCreatorMigration(engine),
    '0003-data': dataMigration(),
    '0010-email-change': emailChangeMigration(engine),
    '0011-security-event-retention': securityEventRetentionMigration(engine),
    '0012-audit-chain': auditChainMigration(engine),
    '0013-storage': storageMigration(engine),
    '0014-realtime': realtimeMigration(engine),
    '0015-operators': operatorsMigration(engine),
    '0016-request-stats': requestStatsMigration(engine),
    '0017-realtime-channels': realtimeChannelsMigration(engine),
  };
}
