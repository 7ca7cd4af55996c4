import { HEADER_DESCRIPTIONS, ROUTES } from './routes.js'
import type { Schema } from './routes.js'

const problemSchema: Schema = {
  type: 'object',
  description: 'RFC 9457 problem details; conflicts add key, expected, actual, kept and conflicts; 423 Locked adds key, owner, expires and token of the lease holder',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    key: { type: 'string' },
    expected: { type: ['string', 'null'] },
    actual: { type: ['string', 'null'] },
    kept: { type: 'string' },
    owner: { type: 'string', description: '423: who holds the lease' },
    expires: { type: 'integer', description: '423: when the holder\'s lease ends, epoch milliseconds' },
    token: { type: 'integer', description: '423: the fencing token of the lease held now' },
    conflicts: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, base: {}, ours: {}, theirs: {} }, required: ['path'] } }
  }
}

/** The OpenAPI 3.1 document of the server, generated from the route table it serves. */
export function openApiDocument (version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    const parameters: Schema[] = []
    for (const name of route.path.match(/:(\w+)/g) ?? []) {
      parameters.push({ name: name.slice(1), in: 'path', required: true, schema: { type: 'string' }, description: 'Percent-encoded; any characters round-trip' })
    }
    const query = (route.querystring?.properties ?? {}) as Record<string, Schema>
    for (const [name, schema] of Object.entries(query)) parameters.push({ name, in: 'query', required: false, schema })
    for (const name of route.headers ?? []) {
      const description = HEADER_DESCRIPTIONS[name]
      parameters.push({ name, in: 'header', required: false, schema: { type: 'string' }, ...(description === undefined ? {} : { description }) })
    }
    const responses: Record<string, unknown> = {}
    for (const [status, description] of Object.entries(route.responses)) {
      responses[status] = Number(status) >= 400
        ? { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }
        : { description }
    }
    const operation: Record<string, unknown> = { operationId: route.operationId, summary: route.summary, parameters, responses }
    if (route.body !== undefined) {
      operation.requestBody = { required: true, content: Object.fromEntries(Object.entries(route.body).map(([type, schema]) => [type, { schema }])) }
    }
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'revkv', version, description: 'A Git-like versioned key-value store: every write is a revision; stale writes get 409 or a merge.' },
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }
    },
    security: [{ bearer: [] }, {}],
    paths
  }
}
