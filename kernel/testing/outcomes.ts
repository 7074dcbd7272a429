// What a call to another role came to, for assertions: its error, or "OK" / "<status> <code>".
import assert from 'node:assert/strict';
import type { AppError } from '../errors.ts';

/** The catalogue error `p` failed with; a success fails the test. */
export const failure = (p: Promise<unknown>): Promise<AppError> =>
  p.then(
    () => assert.fail('expected a failure'),
    (e: AppError) => e,
  );

/** 'OK', or the error's status and code ('503 ROLE_UNAVAILABLE'), so a list of calls compares as strings. */
export const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: AppError) => `${e.status} ${e.code}`,
  );
