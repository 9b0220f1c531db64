// Test support: the throw-away public key infrastructure of dicom-net's test support (openssl CLI).
export * from '@loire/dicom-net/test-support/pki';
