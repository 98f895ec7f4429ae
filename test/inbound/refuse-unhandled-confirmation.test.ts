import { refuseConfirmed, refuseUnhandledConfirmation, refuseConfirmation } from '../../src/inbound/bindings/refuse-confirmation.js';
import type { VerifiedToken } from '../../src/inbound/verified-token.js';

const token = (cnf: unknown): VerifiedToken => ({ payload: cnf === undefined ? { sub: 's' } : { sub: 's', cnf } } as unknown as VerifiedToken);
const credentials = { scheme: 'Bearer', token: 't', via: 'header' } as const;
const request = { method: 'GET', target: '/', headerLines: () => [] };

describe('RFC 7800 cnf: a confirmation method no enabled sender constraint checks is refused', () => {
  it('with no constraint enabled, any cnf is refused and a token without cnf passes', () => {
    expect(refuseUnhandledConfirmation([])).toBe(refuseConfirmation);
    expect(() => refuseConfirmation.check(token({ jkt: 'x' }), credentials, request)).toThrow(/accepts no proof of possession/);
    expect(() => refuseConfirmation.check(token(undefined), credentials, request)).not.toThrow();
  });

  it('with jkt handled, a jkt-only cnf passes to its constraint; x5t#S256, an unknown member or a non-object cnf is refused', () => {
    const check = refuseUnhandledConfirmation(['jkt']);
    expect(() => check.check(token({ jkt: 'x' }), credentials, request)).not.toThrow();
    expect(() => check.check(token(undefined), credentials, request)).not.toThrow();
    for (const cnf of [{ 'x5t#S256': 'y' }, { jkt: 'x', 'x5t#S256': 'y' }, { kid: 'k' }, {}, 'jkt', ['jkt'], null]) {
      let error: unknown;
      try { check.check(token(cnf), credentials, request); } catch (caught) { error = caught; }
      expect(error).toMatchObject({ code: 'ERR_TOKEN_SENDER_CONSTRAINED', status: 401 });
    }
  });

  it('with both handled, a token bound both ways passes on to both constraints', () => {
    expect(() => refuseConfirmed(token({ jkt: 'x', 'x5t#S256': 'y' }), new Set(['jkt', 'x5t#S256']))).not.toThrow();
  });
});
