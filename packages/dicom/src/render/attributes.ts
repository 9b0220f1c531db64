// The attributes that decide how a frame is displayed, read from a data set: Modality LUT, VOI LUT,
// Presentation LUT Shape and Palette Color LUTs, frame by frame for enhanced multi-frame objects
// (PS3.3 C.7.6.16 functional groups).
import type { DataElement, Dataset } from '../dataset.js';
import type { PixelFormat } from '../codecs/pixel-layout.js';
import { expandSegmentedLut, LutError, parseLutData, parseLutDescriptor, type LookupTable } from './lut.js';

export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface WindowLevel {
  readonly center: number;
  readonly width: number;
  readonly function: VoiLutFunction;
}

export interface RenderAttributes {
  readonly format: PixelFormat;
  /** Modality LUT as Rescale Slope/Intercept (PS3.3 C.11.1); absent when a Modality LUT Sequence applies or none. */
  readonly rescale?: { readonly slope: number; readonly intercept: number };
  readonly modalityLut?: LookupTable;
  /** Windows the object proposes, first is the default (PS3.3 C.11.2.1.2). */
  readonly windows: readonly WindowLevel[];
  readonly voiLuts: readonly LookupTable[];
  readonly presentationLutShape?: 'IDENTITY' | 'INVERSE';
  readonly palette?: { readonly red: LookupTable; readonly green: LookupTable; readonly blue: LookupTable };
}

/** Reads the value of an element the parser left on disk (bulk data, no `value`); undefined when it cannot. */
export type ElementValueReader = (element: DataElement) => Promise<Uint8Array | undefined>;

const SHARED_FUNCTIONAL_GROUPS = 0x52009229;
const PER_FRAME_FUNCTIONAL_GROUPS = 0x52009230;
const PIXEL_VALUE_TRANSFORMATION = 0x00289145;
const FRAME_VOI_LUT = 0x00289132;
const RESCALE_INTERCEPT = 0x00281052;
const RESCALE_SLOPE = 0x00281053;
const MODALITY_LUT_SEQUENCE = 0x00283000;
const VOI_LUT_SEQUENCE = 0x00283010;
const LUT_DESCRIPTOR = 0x00283002;
const LUT_DATA = 0x00283006;
const WINDOW_CENTER = 0x00281050;
const WINDOW_WIDTH = 0x00281051;
const VOI_LUT_FUNCTION = 0x00281056;
const PRESENTATION_LUT_SHAPE = 0x20500020;
const PALETTE_DESCRIPTORS = [0x00281101, 0x00281102, 0x00281103] as const;
const PALETTE_DATA = [0x00281201, 0x00281202, 0x00281203] as const;
const SEGMENTED_PALETTE_DATA = [0x00281221, 0x00281222, 0x00281223] as const;
const COLOURS = ['Red', 'Green', 'Blue'] as const;

/**
 * The data sets where a frame's attribute may be found, most specific first: the frame's item of the Per-frame
 * Functional Groups Sequence, the Shared Functional Groups, then the top level (PS3.3 C.7.6.16.1.1).
 */
function frameScopes(dataset: Dataset, frameIndex: number, macro: number): Dataset[] {
  const scopes: Dataset[] = [];
  const perFrame = dataset.get(PER_FRAME_FUNCTIONAL_GROUPS)?.items?.[frameIndex]?.get(macro)?.items?.[0];
  if (perFrame) scopes.push(perFrame);
  const shared = dataset.get(SHARED_FUNCTIONAL_GROUPS)?.items?.[0]?.get(macro)?.items?.[0];
  if (shared) scopes.push(shared);
  scopes.push(dataset);
  return scopes;
}

function firstWith(scopes: readonly Dataset[], tag: number): Dataset | undefined {
  return scopes.find((scope) => scope.get(tag)?.value?.length);
}

export async function readRenderAttributes(
  dataset: Dataset, format: PixelFormat, frameIndex: number, readValue: ElementValueReader,
): Promise<RenderAttributes> {
  const signed = format.pixelRepresentation === 1;
  const rescaleScope = firstWith(frameScopes(dataset, frameIndex, PIXEL_VALUE_TRANSFORMATION), RESCALE_SLOPE)
    ?? firstWith(frameScopes(dataset, frameIndex, PIXEL_VALUE_TRANSFORMATION), RESCALE_INTERCEPT);
  const slope = rescaleScope?.number(RESCALE_SLOPE) ?? 1;
  const intercept = rescaleScope?.number(RESCALE_INTERCEPT) ?? 0;
  // Rescale and a Modality LUT Sequence are mutually exclusive (PS3.3 C.11.1); writers that put both (often a
  // Rescale Slope of 1) mean the table, as pydicom and DCMTK read them too.
  const modalityItem = dataset.get(MODALITY_LUT_SEQUENCE)?.items?.[0];
  const modalityLut = modalityItem ? await readLut(modalityItem, readValue, signed, 'Modality LUT') : undefined;

  const voiScope = firstWith(frameScopes(dataset, frameIndex, FRAME_VOI_LUT), WINDOW_CENTER);
  const windows = voiScope ? readWindows(voiScope) : [];
  const voiLuts: LookupTable[] = [];
  // The VOI LUT's first mapped value is in modality output units: signed when those can be negative.
  const signedVoiInput = signed || intercept < 0;
  for (const [index, item] of (dataset.get(VOI_LUT_SEQUENCE)?.items ?? []).entries()) {
    voiLuts.push(await readLut(item, readValue, signedVoiInput, `VOI LUT ${index + 1}`));
  }
  const shape = dataset.string(PRESENTATION_LUT_SHAPE)?.toUpperCase();
  const palette = format.photometricInterpretation === 'PALETTE COLOR' ? await readPalette(dataset, readValue, signed) : undefined;
  return {
    format,
    ...(modalityLut ? { modalityLut } : { rescale: { slope: Number.isFinite(slope) && slope !== 0 ? slope : 1, intercept: Number.isFinite(intercept) ? intercept : 0 } }),
    windows, voiLuts,
    ...(shape === 'IDENTITY' || shape === 'INVERSE' ? { presentationLutShape: shape } : {}),
    ...(palette ? { palette } : {}),
  };
}

/** Window Center/Width pairs with their VOI LUT Function (PS3.3 C.11.2.1.2); pairs with an unusable width are skipped. */
function readWindows(scope: Dataset): WindowLevel[] {
  const centers = scope.numbers(WINDOW_CENTER);
  const widths = scope.numbers(WINDOW_WIDTH);
  const fn = parseVoiLutFunction(scope.string(VOI_LUT_FUNCTION)) ?? 'LINEAR';
  const windows: WindowLevel[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    const center = centers[i]!;
    const width = widths[i]!;
    if (!Number.isFinite(center) || !Number.isFinite(width) || width < (fn === 'LINEAR' ? 1 : Number.MIN_VALUE)) continue;
    windows.push({ center, width, function: fn });
  }
  return windows;
}

export function parseVoiLutFunction(text: string | undefined): VoiLutFunction | undefined {
  const value = text?.trim().toUpperCase().replace('-', '_');
  return value === 'LINEAR' || value === 'LINEAR_EXACT' || value === 'SIGMOID' ? value : undefined;
}

async function readLut(item: Dataset, readValue: ElementValueReader, signedInput: boolean, what: string): Promise<LookupTable> {
  const descriptor = parseLutDescriptor(item.numbers(LUT_DESCRIPTOR), signedInput, what);
  const data = item.get(LUT_DATA);
  const bytes = data ? data.value ?? await readValue(data) : undefined;
  if (!bytes) throw new LutError(`${what} has no LUT Data`);
  return parseLutData(descriptor, bytes, item.littleEndian, what);
}

async function readPalette(dataset: Dataset, readValue: ElementValueReader, signed: boolean): Promise<RenderAttributes['palette']> {
  const tables: LookupTable[] = [];
  for (let c = 0; c < 3; c++) {
    const what = `${COLOURS[c]} Palette Color LUT`;
    const descriptor = parseLutDescriptor(dataset.numbers(PALETTE_DESCRIPTORS[c]!), signed, what);
    const segmented = dataset.get(SEGMENTED_PALETTE_DATA[c]!);
    const plain = dataset.get(PALETTE_DATA[c]!);
    const element = plain ?? segmented;
    const bytes = element ? element.value ?? await readValue(element) : undefined;
    if (!bytes) throw new LutError(`${what} has no data: a PALETTE COLOR image needs (0028,120x) or (0028,122x)`);
    tables.push(plain ? parseLutData(descriptor, bytes, dataset.littleEndian, what) : expandSegmentedLut(descriptor, bytes, dataset.littleEndian, what));
  }
  return { red: tables[0]!, green: tables[1]!, blue: tables[2]! };
}
