/** Internal: the `realm` requireAuth was configured with, remembered per request for the guards after it. */
const realms = new WeakMap<object, string>();

export function rememberRealm(req: object, realm: string): void {
  realms.set(req, realm);
}

export function realmOf(req: object): string | undefined {
  return realms.get(req);
}
