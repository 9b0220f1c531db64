export * from './dictionary/index.js';
export * from './uids.js';
export * from './tag.js';
export * from './vr.js';
export * from './dataset.js';
export * from './charset.js';
export * from './reader/index.js';
export * from './writer.js';
