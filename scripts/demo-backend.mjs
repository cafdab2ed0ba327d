// One demo backend: an HTTP server on ADDRESS:PORT answering /health and / (used by `npm run demo` and tests).
// Usage: node scripts/demo-backend.mjs 127.0.0.2 8081
import { createServer } from 'node:http';

const [address = '127.0.0.2', port = '8081'] = process.argv.slice(2);
const server = createServer((req, res) => {
  const body = req.url === '/health' ? 'ok\n' : `hello from ${address}\n`;
  res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
});
server.listen(Number(port), address, () =>
  process.stdout.write(`backend ${address}:${port} pid ${process.pid}\n`),
);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
