/**
 * RFC 9449 section 4.3 point 9 with RFC 3986 section 6.2.2 and 6.2.3 (RFC 9110 section 4.2.3):
 * the normalisation under which a proof's `htu` and the request URL are compared, on its own.
 */
import { htuProblem, normaliseHttpUri } from '../../src/dpop/htu.js';

describe('RFC 3986 section 6.2.2.1 and 6.2.3: case, default port, empty path', () => {
  test.each([
    ['HTTPS://API.Example.COM/orders', 'https://api.example.com/orders'],
    ['https://api.example.com:443/orders', 'https://api.example.com/orders'],
    ['http://api.example.com:80/orders', 'http://api.example.com/orders'],
    ['http://api.example.com:8080/orders', 'http://api.example.com:8080/orders'],
    ['https://api.example.com', 'https://api.example.com/'],
    ['https://[::1]:8443/x', 'https://[::1]:8443/x'],
  ])('%s -> %s', (value, normalised) => {
    expect(normaliseHttpUri(value)).toBe(normalised);
  });

  test('the path keeps its case', () => {
    expect(normaliseHttpUri('https://api.example.com/Orders')).not.toBe(normaliseHttpUri('https://api.example.com/orders'));
  });
});

describe('RFC 3986 section 6.2.2.2 and 6.2.2.3: percent-encoding and dot segments', () => {
  test.each([
    ['https://a.example/%7Euser', 'https://a.example/~user'],
    ['https://a.example/%41%62c', 'https://a.example/Abc'],
    ['https://a.example/a%2fb', 'https://a.example/a%2Fb'],
    ['https://a.example/a/./b/../c', 'https://a.example/a/c'],
  ])('%s -> %s', (value, normalised) => {
    expect(normaliseHttpUri(value)).toBe(normalised);
  });

  test('an encoded slash is not a slash', () => {
    expect(normaliseHttpUri('https://a.example/a%2Fb')).not.toBe(normaliseHttpUri('https://a.example/a/b'));
  });
});

describe('RFC 9449 section 4.2: htu is an absolute http(s) URI without query and fragment', () => {
  test.each([
    ['https://a.example/x?y=1', /query or a fragment/],
    ['https://a.example/x#y', /query or a fragment/],
    ['/x', /not an absolute http\(s\) URL/],
    ['ftp://a.example/x', /not an absolute http\(s\) URL/],
    ['https://user:pass@a.example/x', /not an absolute http\(s\) URL/],
  ])('%s is refused', (htu, problem) => {
    expect(htuProblem(htu)).toMatch(problem);
  });

  test('the request URL is compared without its query', () => {
    expect(normaliseHttpUri('https://a.example/x?page=2')).toBe('https://a.example/x');
    expect(htuProblem('https://a.example/x')).toBeUndefined();
  });
});
