// In Implicit VR syntaxes the VR is not encoded: it comes from the data dictionary (PS3.5 A.1).
import type { Dataset, VR } from '../dataset.js';
import { lookupTag } from '../dictionary/index.js';
import { isPixelDataTag, isPrivateCreator, isGroupLength, Tag } from '../tag.js';
import { isVR } from '../vr.js';

/** The VR of an element read in Implicit VR, resolving the dictionary's alternatives. */
export function implicitVR(tag: number, dataset: Dataset): VR {
  if (isGroupLength(tag)) return 'UL';
  if (isPrivateCreator(tag)) return 'LO';
  const entry = lookupTag(tag);
  if (!entry) return 'UN'; // private or unknown elements (PS3.5 6.2.2)
  const vrs = entry.vrs;
  if (vrs.length === 1) return isVR(entry.vr) ? entry.vr : 'UN';
  // OB or OW: Implicit VR Little Endian always encodes pixel data and overlays as OW (PS3.5 A.1 c).
  if (isPixelDataTag(tag) || vrs.includes('OW')) return 'OW';
  // US or SS: signed when Pixel Representation says the pixel values are (PS3.5 A.1 d).
  if (vrs.includes('US') && vrs.includes('SS')) return pixelRepresentation(dataset) === 1 ? 'SS' : 'US';
  return isVR(entry.vr) ? entry.vr : 'UN';
}

function pixelRepresentation(dataset: Dataset): number | undefined {
  for (let ds: Dataset | undefined = dataset; ds; ds = ds.parent) {
    if (ds.has(Tag.PixelRepresentation)) return ds.number(Tag.PixelRepresentation);
  }
  return undefined;
}
