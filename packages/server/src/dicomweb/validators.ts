// HTTP caching for DICOM model answers (RFC 9110 §8.8 validators, §13 conditional requests;
// RFC 9111 Cache-Control): clients revalidate with If-None-Match and get 304 while a study is
// unchanged. Answers hold patient data: private caches only, and always revalidated.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CACHE_CONTROL = 'private, no-cache';

/** A weak entity tag from the parts that determine an answer (weak: the same for every Content-Encoding). */
export function weakEtag(...parts: readonly (string | number)[]): string {
  return `W/"${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 27)}"`;
}

/**
 * Sets the validators and answers whether the client's copy is current (then the caller sends
 * 304). If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.2.2).
 */
export function setValidators(request: FastifyRequest, reply: FastifyReply, etag: string, lastModified?: Date): boolean {
  reply.header('ETag', etag).header('Cache-Control', CACHE_CONTROL).header('Vary', 'Accept, Accept-Encoding');
  if (lastModified && !Number.isNaN(lastModified.getTime())) reply.header('Last-Modified', lastModified.toUTCString());
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true;
    const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => opaque(tag) === opaque(etag));
  }
  const ifModifiedSince = request.headers['if-modified-since'];
  if (ifModifiedSince !== undefined && lastModified) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}
