// DICOM TLS material (PS3.15 B.9/B.10): reads the PEM files named by the dicomTls section once at
// start-up and turns them into the acceptor's and the requestor's TLS settings.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { secureClientOptions, secureServerOptions, type ListenOptions, type TlsOptions } from '@loire/dicom-net';
import { ConfigError, type DicomNode, type DicomTlsConfig } from '../config/config.js';

export interface DicomTlsSettings {
  /** For the TLS listening port. */
  readonly server: NonNullable<ListenOptions['tls']>;
  /** For associations we open to nodes marked `tls: true`: our certificate, and the authorities we trust. */
  readonly client: TlsOptions;
}

function readPem(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`dicomTls.${field}: cannot read ${file}: ${(err as Error).message}`);
  }
}

export function loadDicomTls(config: DicomTlsConfig): DicomTlsSettings {
  const key = readPem(config.key, 'key');
  const cert = readPem(config.certificate, 'certificate');
  const ca = config.ca ? readPem(config.ca, 'ca') : undefined;
  let server: DicomTlsSettings['server'];
  try {
    server = secureServerOptions({ key, cert, ca, clientCertificates: config.clientCertificates });
    // Fails now, not at the first connection, if the key does not match the certificate or a PEM is broken.
    tls.createSecureContext(server);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`dicomTls: the certificate, key or ca cannot be used: ${(err as Error).message}`);
  }
  return { server, client: secureClientOptions({ key, cert, ca }) };
}

/** The TLS settings to reach `node`, or undefined for plain DICOM. */
export function tlsFor(settings: DicomTlsSettings | undefined, node: DicomNode): TlsOptions | undefined {
  if (!node.tls) return undefined;
  if (!settings) throw new Error(`node "${node.name}" is reached over TLS but dicomTls is not configured`);
  return settings.client;
}
