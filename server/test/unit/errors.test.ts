import { describe, expect, it } from 'vitest';
import { MongoNetworkError, MongoOperationTimeoutError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { ToolError, toToolError } from '../../src/errors.ts';

const serverError = (code: number, codeName: string) => new MongoServerError({ ok: 0, code, codeName, errmsg: 'operation exceeded time limit' });

describe('error mapping', () => {
  it('maps MaxTimeMSExpired (50) and ExceededTimeLimit (262) from the database to TIMEOUT', () => {
    expect(toToolError(serverError(50, 'MaxTimeMSExpired')).code).toBe('TIMEOUT');
    expect(toToolError(serverError(262, 'ExceededTimeLimit')).code).toBe('TIMEOUT');
  });

  it('maps a client-side operation timeout to TIMEOUT', () => {
    expect(toToolError(new MongoOperationTimeoutError('Timed out')).code).toBe('TIMEOUT');
  });

  it('maps Unauthorized (13) to DB_UNAUTHORIZED and other database errors to DB_ERROR', () => {
    expect(toToolError(serverError(13, 'Unauthorized')).code).toBe('DB_UNAUTHORIZED');
    expect(toToolError(serverError(2, 'BadValue')).code).toBe('DB_ERROR');
  });

  it("maps a database that cannot be reached to DB_UNAVAILABLE, without the driver's address details", () => {
    const selection = new MongoServerSelectionError('connect ECONNREFUSED 10.88.5.2:27017', {} as never);
    expect(toToolError(selection)).toMatchObject({ code: 'DB_UNAVAILABLE', message: 'the database is unavailable; try again later' });
    expect(toToolError(new MongoNetworkError('connection 3 to 10.88.5.2:27017 closed')).code).toBe('DB_UNAVAILABLE');
    // What driver 7 throws for a write to a connection a killed database closed: Node's own error, unwrapped.
    const ended = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(toToolError(ended).code).toBe('DB_UNAVAILABLE');
  });

  it('keeps a ToolError and hides anything else behind INTERNAL without its message', () => {
    const refusal = new ToolError('RESULT_TOO_LARGE', 'too big');
    expect(toToolError(refusal)).toBe(refusal);
    const e = toToolError(new TypeError('secret detail'));
    expect(e).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
  });
});
