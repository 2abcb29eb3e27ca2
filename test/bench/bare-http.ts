// L_http: the ceiling for the api's HTTP layer. A bare Fastify server that parses the same JSON body as
// POST /v1/points (Fastify's own JSON parser, the same 5 MiB limit) and answers 202 {accepted} at once.
// Run: node --import ./test/faults/register.mjs test/bench/bare-http.ts <port>
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
app.post('/v1/points', async (request, reply) => {
  const body = request.body;
  reply.code(202);
  return { accepted: Array.isArray(body) ? body.length : 1 };
});
app.get('/health/live', async () => ({ status: 'ok' }));
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
