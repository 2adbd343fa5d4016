import type { HeaderField } from './head-parser.js';

const NONE: readonly string[] = Object.freeze([]);

/**
 * Read-only view over received header fields, preserving order, repeats and
 * original name case, with lookups by lower-case name. Built from our own head
 * parser or from node:http's `rawHeaders`, so both server modes validate the
 * very same data.
 */
export class HeaderList {
  readonly fields: readonly HeaderField[];
  private readonly lowerNames: string[];

  constructor(fields: readonly HeaderField[]) {
    this.fields = fields;
    this.lowerNames = fields.map(([name]) => name.toLowerCase());
  }

  /** From node:http's flat `rawHeaders` array [name, value, name, value, ...]. */
  static fromRaw(raw: readonly string[]): HeaderList {
    const fields: HeaderField[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) fields.push([raw[i], raw[i + 1]]);
    return new HeaderList(fields);
  }

  /** Every value of the field `lowerName`, in order. */
  all(lowerName: string): readonly string[] {
    let out: string[] | null = null;
    for (let i = 0; i < this.fields.length; i++) {
      if (this.lowerNames[i] === lowerName) (out ??= []).push(this.fields[i][1]);
    }
    // Most lookups of an upgrade find nothing (Content-Length, Origin, ...): one shared empty answer.
    return out ?? NONE;
  }

  /** The value of `lowerName` when it occurs exactly once; undefined when absent, null when repeated. */
  single(lowerName: string): string | null | undefined {
    let out: string | undefined;
    for (let i = 0; i < this.fields.length; i++) {
      if (this.lowerNames[i] !== lowerName) continue;
      if (out !== undefined) return null;
      out = this.fields[i][1];
    }
    return out;
  }

  /** The values of `lowerName` joined with ", " (list semantics), or undefined when absent. */
  joined(lowerName: string): string | undefined {
    let out: string | undefined;
    for (let i = 0; i < this.fields.length; i++) {
      if (this.lowerNames[i] === lowerName) out = out === undefined ? this.fields[i][1] : `${out}, ${this.fields[i][1]}`;
    }
    return out;
  }

  /** Lower-case names -> values (repeats joined with ", ", cookies with "; "), without a prototype. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (let i = 0; i < this.fields.length; i++) {
      const name = this.lowerNames[i];
      const value = this.fields[i][1];
      const prev = out[name];
      out[name] = prev === undefined ? value : prev + (name === 'cookie' ? '; ' : ', ') + value;
    }
    return out;
  }

  /** Flat [name, value, ...] like node:http's `rawHeaders`. */
  toRaw(): string[] {
    const out: string[] = new Array(this.fields.length * 2);
    for (let i = 0; i < this.fields.length; i++) {
      out[2 * i] = this.fields[i][0];
      out[2 * i + 1] = this.fields[i][1];
    }
    return out;
  }
}
