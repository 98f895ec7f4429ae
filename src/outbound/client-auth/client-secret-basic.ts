/** `client_secret_basic` (RFC 6749 section 2.3.1): HTTP Basic with the form-encoded id and secret. */
import { formEncode, type ClientAuthenticator } from './client-authenticator.js';

/** `Authorization: Basic` value of RFC 6749 section 2.3.1: id and secret form-encoded, then base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuthenticator {
  const authorization = basicAuthorization(clientId, clientSecret);
  return async () => ({ headers: { authorization }, params: {} });
}
