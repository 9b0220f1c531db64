// Why an object was refused, with the DICOM and HTTP statuses each door answers with.

/** PS3.4 B.2.3 / PS3.7 C statuses used by the ingest path. */
export const DicomStatus = {
  Success: 0x0000,
  DuplicateSopInstance: 0x0111,
  OutOfResources: 0xa700,
  DataSetDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
  ProcessingFailure: 0x0110,
} as const;

/** The refused object's identity, as far as it could be read (STOW-RS reports it per instance). */
export interface RefusedInstance {
  sopClassUid?: string | undefined;
  sopInstanceUid?: string | undefined;
}

export class IngestError extends Error {
  override name = 'IngestError';
  /** What could be read of the refused object's identity. */
  instance: RefusedInstance = {};

  constructor(
    message: string,
    readonly dicomStatus: number,
    readonly httpStatus: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Records the refused object's identity, unless a more precise one is already known. */
  about(instance: RefusedInstance): this {
    this.instance = {
      sopClassUid: this.instance.sopClassUid ?? instance.sopClassUid,
      sopInstanceUid: this.instance.sopInstanceUid ?? instance.sopInstanceUid,
    };
    return this;
  }

  static cannotUnderstand(message: string, cause?: unknown): IngestError {
    return new IngestError(message, DicomStatus.CannotUnderstand, 400, { cause });
  }

  static doesNotMatch(message: string): IngestError {
    return new IngestError(message, DicomStatus.DataSetDoesNotMatchSopClass, 400);
  }

  static duplicate(sopInstanceUid: string): IngestError {
    return new IngestError(`SOP Instance ${sopInstanceUid} is already stored and the duplicate policy is "reject"`,
      DicomStatus.DuplicateSopInstance, 409).about({ sopInstanceUid });
  }

  static outOfResources(message: string, cause?: unknown): IngestError {
    return new IngestError(message, DicomStatus.OutOfResources, 503, { cause });
  }
}
