// Table-driven conformance cases (see table-framing.ts); both roles of the library.
import t from 'tap';
import { runTable } from './runner.js';
import { echoCases, pingCases, rsvCases, opcodeTable, fragmentationCases } from './table-framing.js';

runTable(t, [...echoCases, ...pingCases, ...rsvCases, ...opcodeTable, ...fragmentationCases]);
