// Key images as a Key Object Selection Document (PS3.3 A.35.4, PS3.16 TID 2010): the document
// title says why they were flagged ("Of Interest" by default), an optional description, then one
// IMAGE item per flagged image (and frame).
import { z } from 'zod';
import type { DicomJson } from '@loire/dicom';
import { conceptOf, contentOf, imageOf, sameCode, sr, stringOf, Tags, valueTypeOf, type Code, type ImageReference } from './sr-content.js';

export const KEY_OBJECT_SELECTION = '1.2.840.10008.5.1.4.1.1.88.59';

/** Document titles (CID 7010) a user can choose. */
export const KEY_OBJECT_TITLES = {
  'of-interest': { value: '113000', scheme: 'DCM', meaning: 'Of Interest' },
  'for-teaching': { value: '113004', scheme: 'DCM', meaning: 'For Teaching' },
  'for-conference': { value: '113005', scheme: 'DCM', meaning: 'For Conference' },
  'for-referring-provider': { value: '113002', scheme: 'DCM', meaning: 'For Referring Provider' },
  'for-surgery': { value: '113003', scheme: 'DCM', meaning: 'For Surgery' },
  'quality-issue': { value: '113010', scheme: 'DCM', meaning: 'Quality Issue' },
} as const satisfies Record<string, Code>;
export type KeyObjectTitle = keyof typeof KEY_OBJECT_TITLES;

const KEY_OBJECT_DESCRIPTION: Code = { value: '113012', scheme: 'DCM', meaning: 'Key Object Description' };

const UID = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'a UID: digits and dots').max(64);

export const keyImagesSchema = z.object({
  title: z.enum(Object.keys(KEY_OBJECT_TITLES) as [KeyObjectTitle, ...KeyObjectTitle[]]).default('of-interest'),
  description: z.string().max(1024).default(''),
  images: z.array(z.object({ sopInstanceUid: UID, frame: z.number().int().min(1).max(100_000).optional() }).strict()).min(1).max(10_000),
}).strict();

export type KeyImagesInput = z.infer<typeof keyImagesSchema>;

const OBSERVER_TYPE: Code = { value: '121005', scheme: 'DCM', meaning: 'Observer Type' };
const PERSON: Code = { value: '121006', scheme: 'DCM', meaning: 'Person' };
const PERSON_OBSERVER_NAME: Code = { value: '121008', scheme: 'DCM', meaning: 'Person Observer Name' };

export function keyObjectContent(title: KeyObjectTitle, description: string, images: readonly ImageReference[], observer: string): DicomJson {
  const root = sr.container(undefined, KEY_OBJECT_TITLES[title], [
    sr.code('HAS OBS CONTEXT', OBSERVER_TYPE, PERSON),
    sr.pname('HAS OBS CONTEXT', PERSON_OBSERVER_NAME, observer),
    ...(description ? [sr.text('CONTAINS', KEY_OBJECT_DESCRIPTION, description)] : []),
    ...images.map((image) => sr.image('CONTAINS', image)),
  ], '2010');
  delete root[Tags.RelationshipType];
  return root;
}

export interface StoredKeyImages {
  title: Code;
  description: string;
  images: ImageReference[];
}

export function isKeyObjectSelection(document: DicomJson): boolean {
  return stringOf(document, '00080016') === KEY_OBJECT_SELECTION;
}

export function readKeyObjectSelection(document: DicomJson): StoredKeyImages {
  const items = contentOf(document);
  const description = items.map((c) => (sameCode(conceptOf(c), KEY_OBJECT_DESCRIPTION) ? stringOf(c, Tags.TextValue) : undefined)).find(Boolean) ?? '';
  const images = items.filter((c) => valueTypeOf(c) === 'IMAGE').map(imageOf).filter((i): i is ImageReference => i !== undefined);
  return { title: conceptOf(document) ?? KEY_OBJECT_TITLES['of-interest'], description, images };
}
