/** A data set that cannot be decoded: `offset` is the absolute byte offset of the problem. */
export class DicomParseError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte offset ${offset})`);
    this.name = 'DicomParseError';
    this.offset = offset;
  }
}
