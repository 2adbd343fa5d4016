// Autobahn section 6 (UTF-8) against the library's client; see table-utf8.ts.
import t from 'tap';
import { runTable } from './runner.js';
import { utf8Cases } from './table-utf8.js';

runTable(t, utf8Cases, ['client']);
