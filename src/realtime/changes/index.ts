export type {
  ChangeEvent, ChangeFeed, ChangePayload, ChangeScope, ChangeSpec, ChangeSubscriber, ChangeSubscription, ChangeType, RealtimeBus,
} from './types.js';
