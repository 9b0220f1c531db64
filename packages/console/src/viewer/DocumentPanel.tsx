// A series without pixels, shown beside the images: Structured Reports as their text tree,
// encapsulated PDF documents in the browser's PDF viewer (with a download link), anything else
// (presentation states, key object selections…) by name. Opened from the series panel.
import { useEffect, useState } from 'react';
import { seriesMetadata } from '../api';
import { text, Tag, type DicomJsonDataset } from '../dicom-json';
import { srHeader, srLines } from './sr-text';

const ENCAPSULATED_DOCUMENT = '00420011';
const MIME_TYPE = '00420012';
const DOCUMENT_TITLE = '00420010';

interface Shown {
  instances: DicomJsonDataset[];
  /** Object URLs of the encapsulated documents, by SOP Instance UID. */
  documents: Map<string, { url: string; mimeType: string; bytes: number; magic: string }>;
}

export function DocumentPanel({ studyUid, seriesUid, description, onClose }: { studyUid: string; seriesUid: string; description: string; onClose: () => void }) {
  const [shown, setShown] = useState<Shown | undefined>();
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    const urls: string[] = [];
    (async () => {
      const instances = await seriesMetadata(studyUid, seriesUid);
      const documents = new Map<string, { url: string; mimeType: string; bytes: number; magic: string }>();
      for (const instance of instances) {
        const uri = instance[ENCAPSULATED_DOCUMENT]?.BulkDataURI;
        if (!uri) continue;
        const response = await fetch(uri, { headers: { Accept: 'application/octet-stream' }, credentials: 'same-origin' });
        if (!response.ok) throw new Error(`the document could not be read (HTTP ${response.status})`);
        const bytes = await response.arrayBuffer();
        const mimeType = text(instance, MIME_TYPE) || 'application/octet-stream';
        // The first bytes say what the document really is (a PDF starts with "%PDF-").
        const magic = String.fromCharCode(...new Uint8Array(bytes.slice(0, 5)));
        if (mimeType === 'application/pdf' && magic !== '%PDF-') throw new Error('the encapsulated document says it is a PDF but is not one');
        // The value is padded to an even length: a PDF ends at its %%EOF, the pad byte is harmless.
        const url = URL.createObjectURL(new Blob([bytes], { type: mimeType }));
        urls.push(url);
        documents.set(text(instance, Tag.SOPInstanceUID), { url, mimeType, bytes: bytes.byteLength, magic });
      }
      if (!cancelled) setShown({ instances, documents });
    })().catch((e: unknown) => { if (!cancelled) setError(e instanceof Error ? e.message : String(e)); });
    return () => {
      cancelled = true;
      for (const url of urls) URL.revokeObjectURL(url);
    };
  }, [studyUid, seriesUid]);

  return (
    <aside className="document-panel" aria-label="Document" data-series-uid={seriesUid} data-state={error ? 'error' : shown ? 'ready' : 'loading'}>
      <div className="document-header">
        <strong>{description || 'Document'}</strong>
        <button type="button" onClick={onClose} title="Close (Escape)">Close</button>
      </div>
      {error && <div className="error" role="alert">{error}</div>}
      {!shown && !error && <div className="hint">Loading…</div>}
      {shown?.instances.map((instance) => {
        const sop = text(instance, Tag.SOPInstanceUID);
        const document = shown.documents.get(sop);
        if (document) {
          const title = text(instance, DOCUMENT_TITLE) || 'Document';
          return (
            <section key={sop} className="document" data-sop-instance-uid={sop} data-mime-type={document.mimeType} data-bytes={document.bytes} data-magic={document.magic}>
              <div className="document-title">{title} <a href={document.url} download={`${title}.${document.mimeType === 'application/pdf' ? 'pdf' : 'bin'}`}>Download</a></div>
              {document.mimeType === 'application/pdf'
                ? <iframe className="document-pdf" title={title} src={document.url} />
                : <div className="hint">{document.mimeType} document, {document.bytes} bytes: use Download to open it.</div>}
            </section>
          );
        }
        if (instance['0040A730'] || instance['0040A040']) {
          const header = srHeader(instance);
          return (
            <section key={sop} className="document sr" data-sop-instance-uid={sop}>
              <div className="document-title">{[header.date, header.completion, header.verification].filter(Boolean).join(' · ')}</div>
              <ul className="sr-tree">
                {srLines(instance).map((line, i) => (
                  <li key={i} style={{ paddingLeft: `${line.depth * 16}px` }} data-value-type={line.valueType} className={line.valueType === 'CONTAINER' ? 'sr-heading' : undefined}>
                    {line.concept && <span className="sr-concept">{line.concept}{line.value ? ': ' : ''}</span>}
                    <span className="sr-value">{line.value}</span>
                  </li>
                ))}
              </ul>
            </section>
          );
        }
        return <section key={sop} className="document" data-sop-instance-uid={sop}><div className="hint">{text(instance, Tag.Modality)} object: nothing to display as text.</div></section>;
      })}
    </aside>
  );
}
