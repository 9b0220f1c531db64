export * from './dictionary/index.js';
export * from './uids.js';
