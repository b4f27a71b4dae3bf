import { GatehouseError } from './gatehouse-error.js';

/** A bad input, named by its field: the one validation_failed shape of every front end. */
export function invalid(field: string, problem: string, message = `${field} ${problem}`): GatehouseError {
  return new GatehouseError('validation_failed', { message, details: [{ field, problem }] });
}
