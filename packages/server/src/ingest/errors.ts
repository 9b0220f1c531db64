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

export class IngestError extends Error {
  override name = 'IngestError';
  constructor(
    message: string,
    readonly dicomStatus: number,
    readonly httpStatus: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static cannotUnderstand(message: string, cause?: unknown): IngestError {
    return new IngestError(message, DicomStatus.CannotUnderstand, 400, { cause });
  }

  static doesNotMatch(message: string): IngestError {
    return new IngestError(message, DicomStatus.DataSetDoesNotMatchSopClass, 400);
  }

  static duplicate(sopInstanceUid: string): IngestError {
    return new IngestError(`SOP Instance ${sopInstanceUid} is already stored and the duplicate policy is "reject"`,
      DicomStatus.DuplicateSopInstance, 409);
  }

  static outOfResources(message: string, cause?: unknown): IngestError {
    return new IngestError(message, DicomStatus.OutOfResources, 503, { cause });
  }
}
