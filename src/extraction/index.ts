/** Getting the Bearer token out of a request (RFC 6750 section 2), independent of any framework. */
export * from './extract-bearer-token.js';
