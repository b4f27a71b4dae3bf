export { authorizeResources, filterList, notFound, recordOutcome, type Denial, type Owner } from './guard.js';
export { bodyReferences, createdResources, isReferenceKey, listItems, paramCheck, type Reference } from './resource-kinds.js';
export { createResourceStore, type ResourceScope, type ResourceStore, type SweepCursor, type UncountedResource } from './store.js';
