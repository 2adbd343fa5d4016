// Table-driven conformance cases (see table-close.ts); both roles of the library.
import t from 'tap';
import { runTable } from './runner.js';
import { closeCases } from './table-close.js';

runTable(t, closeCases);
