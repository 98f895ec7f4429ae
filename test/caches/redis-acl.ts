/**
 * The least-privileged ACL users of docs/redis.md ("Managed offerings: TLS and ACL users"), read
 * from the guide itself so that the tests run exactly what it tells users to run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The arguments after `ACL` of each documented `redis-cli ACL SETUSER orders-service ...` line: [one server, Cluster]. */
export function documentedAclUsers(): string[][] {
  const guide = readFileSync(join(__dirname, '..', '..', 'docs', 'redis.md'), 'utf8');
  const lines = [...guide.matchAll(/^redis-cli ACL (SETUSER orders-service .*)$/gm)].map((match) => match[1] as string);
  return lines.map((line) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((token) => (token[1] ?? token[2]) as string));
}

/** A documented user's `ACL` arguments for a test user, password and key prefix. */
export function aclFor(documented: readonly string[], user: string, password: string, keyPrefix: string): string[] {
  return documented.map((arg) => {
    if (arg === 'orders-service') return user;
    if (arg === '>a-long-random-password') return `>${password}`;
    if (arg === '~express-m2m:token:*') return `~${keyPrefix}*`;
    return arg;
  });
}
