/**
 * Requests that fail before fastify sees them: Node's HTTP parser refuses them (malformed
 * HTTP, headers over the size limit) or they do not arrive in time (the request timeout).
 * Node would answer with a bare status line and fastify with its own JSON; revkv answers
 * problem+json like everywhere else, then closes the connection, as both of them do: after
 * such an error the rest of the bytes on the connection cannot be trusted.
 */
import { maxHeaderSize } from 'node:http'
import type { Socket } from 'node:net'
import { HttpError, InvalidInputError } from '../errors.js'
import type { RevkvError } from '../errors.js'
import { problemOf, statusTitle } from './problem.js'

/** What the answer needs to know about the server. */
export interface ClientErrorContext {
  /** The request timeout in milliseconds, named in the 408's detail. */
  requestTimeout: number
  /** The access log, which gets one line per answer. */
  log: ((line: string) => void) | undefined
}

/** Answer a client error event (`'clientError'` of Node's server) with problem+json, then close the connection. */
export function answerClientError (err: Error & { code?: string, reason?: string }, socket: Socket, context: ClientErrorContext): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // Like Node's own handler: once a response has started on this connection (or the
  // connection is already closing), another one would corrupt what the peer reads.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy()
    return
  }
  const answer = problemOf(clientError(err, context.requestTimeout))
  const body = JSON.stringify(answer)
  const status = answer.status
  const address = socket.remoteAddress ?? '-'
  socket.end(
    `HTTP/1.1 ${status} ${statusTitle(status)}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => { socket.destroy() }
  )
  // The request line may not have been read: Common Log Format writes "-" for it.
  context.log?.(`${address} - - [${new Date().toISOString()}] "-" ${status} ${Buffer.byteLength(body)} -`)
}

function clientError (err: Error & { code?: string, reason?: string }, requestTimeout: number): RevkvError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError(`The request did not arrive in full within ${requestTimeout} ms (the server's request timeout); send the headers and body without pausing.`, 'REVKV_TIMEOUT', 408)
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError(`The request line and headers are over ${maxHeaderSize} bytes; shorten the URL (keys are at most 1024 bytes) or the headers.`, 'REVKV_TOO_LARGE', 431)
    default:
      return new InvalidInputError(`Malformed HTTP request: ${err.reason ?? err.message} (${err.code ?? 'no code'}).`)
  }
}
