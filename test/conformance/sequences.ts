/** UTF-8 test sequences (Autobahn section 6 groups), valid and invalid, as hex. */

export const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const cp = (n: number): string => Buffer.from(String.fromCodePoint(n), 'utf8').toString('hex');

export const KOSME = h('ceba e1bdb9 cf83 cebc ceb5');
export const HELLO = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');

/** [group id, sequences as hex, valid] - validity written by hand, cross-checked by the tests. */
export const SEQUENCES: Array<[string, string[], boolean]> = [
  ['6.5', [KOSME.toString('hex'), HELLO.toString('hex'), '00', '7f', '20e282ac20'], true],
  ['6.6v', [2, 5, 7, 9, 11].map((n) => KOSME.subarray(0, n).toString('hex')), true],
  ['6.6i', [1, 3, 4, 6, 8, 10].map((n) => KOSME.subarray(0, n).toString('hex')), false],
  ['6.7', ['c280', 'e0a080', 'f0908080'], true],
  ['6.8', ['f888808080', 'fc8480808080'], false],
  ['6.9', ['dfbf', 'efbfbf', 'f48fbfbf'], true],
  ['6.10', ['f7bfbfbf', 'fbbfbfbfbf', 'fdbfbfbfbfbf'], false],
  ['6.11v', ['ed9fbf', 'ee8080', 'efbfbd'], true],
  ['6.11i', ['f4908080'], false],
  ['6.12', ['80', 'bf', '80bf', '80bf80', '80bf80bf', '80bf80bf80', '80bf80bf80bf',
    Array.from({ length: 64 }, (_, i) => (0x80 + i).toString(16)).join('')], false],
  ['6.13', [
    Array.from({ length: 32 }, (_, i) => `${(0xc0 + i).toString(16)}20`).join(''),
    Array.from({ length: 16 }, (_, i) => `${(0xe0 + i).toString(16)}20`).join(''),
    Array.from({ length: 8 }, (_, i) => `${(0xf0 + i).toString(16)}20`).join(''),
    'f820f920fa20fb20', 'fc20fd20'], false],
  ['6.14', ['c0', 'e080', 'f08080', 'f8808080', 'fc80808080', 'df', 'efbf', 'f7bfbf', 'fbbfbfbf', 'fdbfbfbfbf',
    'ce', 'e1bd', 'f48fbf', '41c2', '41e2', '41f0'], false],
  ['6.15', ['c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf'], false],
  ['6.16', ['fe', 'ff', 'fefeffff'], false],
  ['6.17', ['c0af', 'e080af', 'f08080af', 'f8808080af', 'fc80808080af'], false],
  ['6.18', ['c1bf', 'e09fbf', 'f08fbfbf', 'f887bfbfbf', 'fc83bfbfbfbf'], false],
  ['6.19', ['c080', 'e08080', 'f0808080', 'f880808080', 'fc8080808080'], false],
  ['6.20', ['eda080', 'edadbf', 'edae80', 'edafbf', 'edb080', 'edbe80', 'edbfbf'], false],
  ['6.21', ['eda080edb080', 'eda080edbfbf', 'edadbfedb080', 'edadbfedbfbf', 'edae80edb080', 'edae80edbfbf',
    'edafbfedb080', 'edafbfedbfbf'], false],
  ['6.22', ['efbfbe', 'efbfbf', ...Array.from({ length: 16 }, (_, p) => [cp((p + 1) * 0x10000 + 0xfffe), cp((p + 1) * 0x10000 + 0xffff)]).flat(),
    cp(0xfdd0), cp(0xfdef)], true],
  ['6.23', ['efbfbd', 'efbbbf', '41efbbbf42', 'e280a8', 'f09f9880', 'f4808080'], true],
  // Invalid bytes after valid text: the failure must come at the bad byte, not at the end.
  ['6.3', [KOSME.toString('hex') + 'eda080' + Buffer.from('edited').toString('hex'), '48656c6c6fc0af776f726c64', '2a'.repeat(200) + 'ff' + '2a'.repeat(50)], false],
];

