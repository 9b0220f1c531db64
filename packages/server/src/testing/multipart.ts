// Test-only: splits a multipart/related response body (RFC 2046 §5.1) into its parts, strictly,
// so that a malformed response fails the test instead of being read leniently.
export interface ReceivedPart {
  headers: Record<string, string>;
  body: Buffer;
}

export function boundaryOf(contentType: string | null): string {
  const match = /boundary="?([^";]+)"?/i.exec(contentType ?? '');
  if (!contentType?.toLowerCase().startsWith('multipart/related') || !match) throw new Error(`not a multipart/related response: ${contentType}`);
  return match[1]!;
}

export function splitMultipart(body: Buffer, contentType: string | null): ReceivedPart[] {
  const boundary = boundaryOf(contentType);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: ReceivedPart[] = [];
  let at = body.indexOf(delimiter);
  if (at !== 0) throw new Error('multipart body does not start with its boundary');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    if (body.subarray(at, at + 2).toString() !== '\r\n') throw new Error(`no CRLF after the boundary at ${at}`);
    const headerEnd = body.indexOf('\r\n\r\n', at);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(at + 2, headerEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const start = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0) throw new Error('multipart body is cut: no closing boundary');
    const partBody = body.subarray(start, next);
    if (headers['content-length'] !== undefined && Number(headers['content-length']) !== partBody.length) {
      throw new Error(`part Content-Length ${headers['content-length']} but ${partBody.length} bytes`);
    }
    parts.push({ headers, body: partBody });
    at = next + 2;
  }
  return parts;
}
