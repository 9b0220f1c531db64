// WADO-RS bulk data (PS3.18 §10.4.1.1.5, §8.7.3.3): the value of one element of an instance, at
// the BulkDataURI the metadata gives (`…/bulkdata/{tag}` or `{sequence tag}/{item}/…/{tag}`, see
// bulkDataUri()). Read by position from the stored object; Pixel Data comes as its frames.
import type { Dataset, DataElement } from '@loire/dicom';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { baseUrl, bulkDataUri, type DicomwebContext, type InstanceIds } from './context.js';
import { sendFrames, InstanceFrames } from './frames.js';
import { PIXEL_DATA_TAGS } from '../index/index.js';
import { HttpError } from './http-error.js';
import { multipartContentType, multipartStream, newBoundary } from './multipart.js';
import { parseAccept, rangeMatches } from './accept.js';
import { findInstance, retrieveTarget } from './wado-instances.js';
import { OCTET_STREAM, pixelsNotAcceptable, planPixels } from './wado-negotiation.js';

const MAX_PATH_PARTS = 2 * 16 + 1;

/** `7FE00010` or `00540016/0/00181071` → tags and 0-based item indexes, alternating. */
export function parseTagPath(text: string): (number)[] {
  const parts = text.split('/');
  if (parts.length > MAX_PATH_PARTS || parts.length % 2 === 0) {
    throw HttpError.badRequest(`bulk data path "${text.slice(0, 120)}" is not {tag} or {sequence tag}/{item index}/…/{tag}`);
  }
  return parts.map((part, at) => {
    if (at % 2 === 0) {
      if (!/^[0-9A-Fa-f]{8}$/.test(part)) throw HttpError.badRequest(`bulk data path: "${part.slice(0, 40)}" is not a tag (8 hexadecimal digits)`);
      return parseInt(part, 16);
    }
    if (!/^[0-9]{1,6}$/.test(part)) throw HttpError.badRequest(`bulk data path: "${part.slice(0, 40)}" is not an item index`);
    return Number(part);
  });
}

function findElement(dataset: Dataset, path: readonly number[], sopInstanceUid: string): DataElement {
  let current = dataset;
  for (let at = 0; at < path.length; at += 2) {
    const element = current.get(path[at]!);
    const tag = path[at]!.toString(16).toUpperCase().padStart(8, '0');
    if (!element) throw HttpError.notFound(`instance ${sopInstanceUid} has no element ${tag} at this path`);
    if (at === path.length - 1) return element;
    const item = element.items?.[path[at + 1]!];
    if (!item) throw HttpError.notFound(`instance ${sopInstanceUid}: ${tag} has no item ${path[at + 1]}`);
    current = item;
  }
  throw HttpError.badRequest('empty bulk data path');
}

const VALUE_SIZE: Readonly<Record<string, number>> = { OW: 2, US: 2, SS: 2, OL: 4, OF: 4, UL: 4, SL: 4, FL: 4, OD: 8, FD: 8, OV: 8, SV: 8, UV: 8 };

/** Bulk data is sent little endian (PS3.18 §8.7.3.3.1, explicit VR little endian): swap a big endian value. */
function littleEndian(value: Uint8Array, vr: string, isLittleEndian: boolean): Uint8Array {
  const size = VALUE_SIZE[vr];
  if (isLittleEndian || !size) return value;
  const out = Buffer.from(value);
  for (let at = 0; at + size <= out.length; at += size) out.subarray(at, at + size).reverse();
  return out;
}

interface BulkParams { study: string; series: string; instance: string; '*': string }

export function registerBulkdata(app: FastifyInstance, context: DicomwebContext): void {
  const { opened } = context;
  app.get('/studies/:study/series/:series/instances/:instance/bulkdata/*', { config: { access: 'view' } },
    async (request: FastifyRequest<{ Params: BulkParams }>, reply) => {
      const ids = retrieveTarget(request.params) as InstanceIds;
      const path = parseTagPath(request.params['*']);
      const record = await findInstance(context, ids);
      const instance = await opened.open(record);
      const element = findElement(instance.dataset, path, ids.sopInstanceUid);
      const location = bulkDataUri(baseUrl(request), ids, request.params['*'].split('/'));
      if (path.length === 1 && PIXEL_DATA_TAGS.has(path[0]!)) {
        const frames = new InstanceFrames(instance);
        const plan = planPixels(request.headers.accept, frames.transferSyntaxUid);
        if (!plan) throw pixelsNotAcceptable(request.headers.accept, frames.transferSyntaxUid);
        const all = Array.from({ length: frames.numberOfFrames }, (_, index) => index);
        return sendFrames(reply, frames, all, { ...plan, multipart: plan.multipart || all.length > 1 }, () => location);
      }
      if (element.items || element.fragments) throw HttpError.badRequest(`element ${request.params['*']} is a sequence: ask for an element inside one of its items`);
      const ranges = parseAccept(request.headers.accept);
      const range = ranges.find((r) => (r.type === 'multipart/related' && (r.parameters.type ?? OCTET_STREAM).toLowerCase() === OCTET_STREAM) || rangeMatches(r, OCTET_STREAM));
      if (!range) throw HttpError.notAcceptable(`bulk data is sent as ${OCTET_STREAM}, alone or in multipart/related; the Accept header "${request.headers.accept}" allows neither`);
      const raw = element.value ?? (element.position ? await instance.readBulk(element.position) : new Uint8Array(0));
      const value = littleEndian(raw, element.vr, instance.dataset.littleEndian);
      if (range.type !== 'multipart/related' && range.type !== '*/*') {
        return reply.header('Content-Type', OCTET_STREAM).header('Content-Location', location).send(Buffer.from(value));
      }
      const boundary = newBoundary();
      async function* part(): AsyncGenerator<{ contentType: string; headers: Record<string, string>; body: Uint8Array }> {
        yield { contentType: OCTET_STREAM, headers: { 'Content-Location': location }, body: value };
      }
      return reply.header('Content-Type', multipartContentType(boundary, OCTET_STREAM)).send(multipartStream(boundary, part()));
    });
}
