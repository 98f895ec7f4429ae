// The downstream API of the steady outbound benchmark (S8): node:http, no framework, so that the
// client under test, not this server, is what limits the rate. Answers 200 and a small JSON to a
// request with a Bearer token, 401 otherwise. Prints "READY <port>".
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const ok = /^Bearer \S+$/.test(req.headers.authorization ?? '');
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
  res.end(ok ? '{"ok":true,"items":[1,2,3]}' : '{"error":"invalid_token"}');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`READY ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
