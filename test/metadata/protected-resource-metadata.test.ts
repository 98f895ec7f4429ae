/**
 * RFC 9728: the protected resource metadata document (section 2), its well-known URL (section
 * 3.1), and the options it is built from, checked at construction.
 */
import { createProtectedResourceMetadata, type ProtectedResourceMetadataOptions } from 'express-m2m';

describe('RFC 9728 section 3.2: the example document, built from the same values', () => {
  const metadata = createProtectedResourceMetadata({
    resource: 'https://resource.example.com',
    authorizationServers: ['https://as1.example.com', 'https://as2.example.net'],
    bearerMethodsSupported: ['header', 'body'],
    scopesSupported: ['profile', 'email', 'phone'],
    resourceDocumentation: 'https://resource.example.com/resource_documentation.html',
  });

  test('the document is the example, member for member', () => {
    expect(metadata.document).toStrictEqual({
      resource: 'https://resource.example.com',
      authorization_servers: ['https://as1.example.com', 'https://as2.example.net'],
      bearer_methods_supported: ['header', 'body'],
      scopes_supported: ['profile', 'email', 'phone'],
      resource_documentation: 'https://resource.example.com/resource_documentation.html',
    });
  });

  test('it is published at https://resource.example.com/.well-known/oauth-protected-resource (section 3.1)', () => {
    expect(metadata.url).toBe('https://resource.example.com/.well-known/oauth-protected-resource');
    expect(metadata.path).toBe('/.well-known/oauth-protected-resource');
  });

  test('the document and its lists are frozen (one document shared by every request)', () => {
    expect(Object.isFrozen(metadata)).toBe(true);
    expect(Object.isFrozen(metadata.document)).toBe(true);
    expect(Object.isFrozen(metadata.document.authorization_servers)).toBe(true);
    expect(Object.isFrozen(metadata.document.scopes_supported)).toBe(true);
  });
});

describe('RFC 9728 section 3.1: the well-known URI goes between the host and the path of the resource identifier', () => {
  test.each([
    ['https://resource.example.com/resource1', 'https://resource.example.com/.well-known/oauth-protected-resource/resource1'],
    ['https://api.example/v1', 'https://api.example/.well-known/oauth-protected-resource/v1'],
    ['https://api.example/tenants/acme/', 'https://api.example/.well-known/oauth-protected-resource/tenants/acme/'],
    ['https://api.example/', 'https://api.example/.well-known/oauth-protected-resource'],
    ['https://api.example:8443/v1', 'https://api.example:8443/.well-known/oauth-protected-resource/v1'],
    ['http://127.0.0.1:3000/v1', 'http://127.0.0.1:3000/.well-known/oauth-protected-resource/v1'],
  ])('%s -> %s', (resource, url) => {
    const metadata = createProtectedResourceMetadata({ resource, authorizationServers: ['https://as.example'] });
    expect(metadata.url).toBe(url);
    expect(metadata.path).toBe(new URL(url).pathname);
    // Section 3.3: the document names the resource exactly as it was given.
    expect(metadata.document.resource).toBe(resource);
  });
});

describe('RFC 9728 section 2: members and defaults', () => {
  const base = { resource: 'https://api.example', authorizationServers: ['https://as.example'] };

  test('only the required and default members when nothing else is given; bearer_methods_supported is ["header"]', () => {
    expect(createProtectedResourceMetadata(base).document).toStrictEqual({
      resource: 'https://api.example',
      authorization_servers: ['https://as.example'],
      bearer_methods_supported: ['header'],
    });
  });

  test('every supported member, under its RFC name', () => {
    expect(createProtectedResourceMetadata({
      ...base,
      scopesSupported: 'read:orders write:orders',
      resourceName: 'Orders API',
      resourceDocumentation: 'https://api.example/docs',
      resourcePolicyUri: 'https://api.example/policy',
      resourceTosUri: 'https://api.example/tos',
    }).document).toStrictEqual({
      resource: 'https://api.example',
      authorization_servers: ['https://as.example'],
      scopes_supported: ['read:orders', 'write:orders'],
      bearer_methods_supported: ['header'],
      resource_name: 'Orders API',
      resource_documentation: 'https://api.example/docs',
      resource_policy_uri: 'https://api.example/policy',
      resource_tos_uri: 'https://api.example/tos',
    });
  });

  test('sender-constrained token members are never advertised (requireAuth refuses such tokens today)', () => {
    const { document } = createProtectedResourceMetadata(base);
    for (const member of ['dpop_signing_alg_values_supported', 'dpop_bound_access_tokens_required', 'tls_client_certificate_bound_access_tokens']) {
      expect(document).not.toHaveProperty(member);
    }
  });

  test('repeated values are listed once, in order', () => {
    const { document } = createProtectedResourceMetadata({ ...base, authorizationServers: ['https://b.example', 'https://a.example', 'https://b.example'], scopesSupported: ['x', 'y', 'x'] });
    expect(document.authorization_servers).toEqual(['https://b.example', 'https://a.example']);
    expect(document.scopes_supported).toEqual(['x', 'y']);
  });
});

describe('bad options throw a TypeError naming the option, at construction', () => {
  const base: ProtectedResourceMetadataOptions = { resource: 'https://api.example', authorizationServers: ['https://as.example'] };
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['no resource', { resource: undefined }, /"resource" is required/],
    ['a resource that is not a URL', { resource: 'api.example' }, /"resource" must be an absolute https URL, got "api.example"/],
    ['a resource of another scheme', { resource: 'urn:example:api' }, /"resource" must be an absolute https URL/],
    ['a plain-http resource off loopback', { resource: 'http://api.example' }, /"resource" must be an https URL \(plain http only on loopback\)/],
    ['a resource with a fragment', { resource: 'https://api.example/v1#x' }, /"resource" must have no fragment/],
    ['a resource with an empty fragment', { resource: 'https://api.example/#' }, /"resource" must have no fragment/],
    ['a resource with a query', { resource: 'https://api.example/v1?tenant=a' }, /"resource" must have no query/],
    ['a resource with user information', { resource: 'https://user:pw@api.example' }, /"resource" must have no user information/],
    ['a resource not in canonical form (host case)', { resource: 'https://API.example/v1' }, /"resource" must be written in canonical form, "https:\/\/api.example\/v1"/],
    ['a resource not in canonical form (default port)', { resource: 'https://api.example:443/v1' }, /canonical form, "https:\/\/api.example\/v1"/],
    ['a resource not in canonical form (dot segments)', { resource: 'https://api.example/a/../v1' }, /canonical form, "https:\/\/api.example\/v1"/],
    ['no authorization servers', { authorizationServers: undefined }, /"authorizationServers" is required \(clients find where to get a token from it/],
    ['an empty list of authorization servers', { authorizationServers: [] }, /"authorizationServers" must be a non-empty array of issuer URLs/],
    ['an authorization server that is not a URL', { authorizationServers: ['https://as.example', 'issuer'] }, /"authorizationServers\[1\]" must be an issuer identifier/],
    ['an authorization server over plain http', { authorizationServers: ['http://as.example'] }, /"authorizationServers\[0\]" must be an https URL/],
    ['an authorization server with a query', { authorizationServers: ['https://as.example/?x=1'] }, /"authorizationServers\[0\]" must have no query or fragment/],
    ['scopes that are not strings', { scopesSupported: [1] }, /"scopesSupported" must be a space-separated string or an array of scope names/],
    ['a scope with a quote', { scopesSupported: ['read:"orders"'] }, /"scopesSupported\[0\]" must be a scope name/],
    ['an unknown bearer method', { bearerMethodsSupported: ['cookie'] }, /"bearerMethodsSupported\[0\]" must be 'header', 'body' or 'query'/],
    ['no bearer method', { bearerMethodsSupported: [] }, /"bearerMethodsSupported" must be a non-empty array/],
    ['an empty resource name', { resourceName: '' }, /"resourceName" must be a non-empty string/],
    ['a documentation link that is not a URL', { resourceDocumentation: 'docs.html' }, /"resourceDocumentation" must be an absolute http\(s\) URL/],
    ['a DPoP member of the wrong type', { dpopBoundAccessTokensRequired: 'yes' }, /"dpopBoundAccessTokensRequired" must be a boolean/],
    ['a misspelt option', { scopeSupported: ['x'] }, /unknown option "scopeSupported" \(did you mean "scopesSupported"\?\)/],
  ])('%s', (_case, change, message) => {
    const options = { ...base, ...change } as ProtectedResourceMetadataOptions;
    expect(() => createProtectedResourceMetadata(options)).toThrow(TypeError);
    expect(() => createProtectedResourceMetadata(options)).toThrow(/^createProtectedResourceMetadata: /);
    expect(() => createProtectedResourceMetadata(options)).toThrow(message);
  });
});
