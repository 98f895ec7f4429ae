/**
 * Internal: a client-certificate header (set by a TLS-terminating proxy) whose value cannot be
 * read. The message names the header and what is wrong with it, never its contents.
 */
export class CertificateHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateHeaderError';
  }
}
