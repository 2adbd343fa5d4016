// Autobahn section 9 against the library's server (split by role to bound each file's time).
import t from 'tap';
import { runTable } from './runner.js';
import { largeCases } from './table-large.js';

runTable(t, largeCases, ['server']);
