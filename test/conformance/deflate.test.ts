// Table-driven conformance cases (see table-deflate.ts); both roles of the library.
import t from 'tap';
import { runTable } from './runner.js';
import { deflateDataCases } from './table-deflate.js';

runTable(t, deflateDataCases);
