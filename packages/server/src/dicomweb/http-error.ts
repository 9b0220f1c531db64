// Errors a DICOMweb handler throws to answer with a status and a message a client can act on.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly statusCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }

  static badRequest(message: string): HttpError { return new HttpError(400, message); }
  static notFound(message: string): HttpError { return new HttpError(404, message); }
  static notAcceptable(message: string): HttpError { return new HttpError(406, message); }
  static unsupportedMediaType(message: string): HttpError { return new HttpError(415, message); }
}

/**
 * One error body for the whole HTTP door: `{ "error": <reason phrase>, "message": <what failed and what to do> }`.
 * Unexpected errors are logged with their stack and answered 500 without internals.
 */
export function sendError(error: FastifyError | HttpError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error instanceof HttpError ? error.statusCode
    : typeof (error as FastifyError).statusCode === 'number' ? (error as FastifyError).statusCode! : 500;
  if (status >= 500) request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
  if (error instanceof HttpError) reply.headers(error.headers);
  const message = status >= 500 && !(error instanceof HttpError) ? 'internal error; the server log has the details' : error.message;
  return reply.code(status).type('application/json').send({ error: reasonPhrase(status), message });
}

function reasonPhrase(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'Not Found';
    case 406: return 'Not Acceptable';
    case 409: return 'Conflict';
    case 413: return 'Payload Too Large';
    case 415: return 'Unsupported Media Type';
    case 503: return 'Service Unavailable';
    default: return status >= 500 ? 'Internal Server Error' : 'Error';
  }
}
