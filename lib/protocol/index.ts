/** The sans-I/O protocol core, re-exported for the layers above. */
export * from './constants.js';
export * from './extension.js';
export * from './mask.js';
export * from './utf8.js';
export * from './close.js';
export * from './retry-after.js';
export * from './frame-writer.js';
export * from './frame-reader.js';
export * from './message-assembler.js';
export * from './frame-parser.js';
export * from './connection.js';
