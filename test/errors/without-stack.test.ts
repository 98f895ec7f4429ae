import { withoutStack } from '../../src/errors/without-stack.js';
import { InsufficientScopeError, InvalidTokenError, MissingTokenError } from 'express-m2m';
import * as api from 'express-m2m';

describe('withoutStack: expected rejections are built without capturing a stack trace', () => {
  it('keeps `stack` a string holding only "Name: message" (no frames)', () => {
    const error = withoutStack(() => new InvalidTokenError('signature verification failed', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(typeof error.stack).toBe('string');
    expect(error.stack).toBe('InvalidTokenError: signature verification failed');
    expect(error.code).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('works for every error class (subclasses keep their own name)', () => {
    expect(withoutStack(() => new MissingTokenError()).stack).toBe('MissingTokenError: no access token in the request');
    expect(withoutStack(() => new InsufficientScopeError(['read'])).stack?.split('\n')).toHaveLength(1);
  });

  it('restores Error.stackTraceLimit afterwards, also when construction throws', () => {
    const limit = Error.stackTraceLimit;
    withoutStack(() => new MissingTokenError());
    expect(Error.stackTraceLimit).toBe(limit);
    expect(() => withoutStack(() => {
      throw new RangeError('boom');
    })).toThrow(RangeError);
    expect(Error.stackTraceLimit).toBe(limit);
    // Errors built outside the helper still carry frames.
    expect(new InvalidTokenError('x').stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('is internal: not part of the package exports', () => {
    expect(Object.keys(api)).not.toContain('withoutStack');
  });
});
