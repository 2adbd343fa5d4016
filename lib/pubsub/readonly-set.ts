/** A live read-only view of a Set: the owner changes it, holders of the view can only read. */
export class ReadonlySetView<T> implements ReadonlySet<T> {
  constructor(private readonly set: Set<T>) {}

  get size(): number {
    return this.set.size;
  }

  has(value: T): boolean {
    return this.set.has(value);
  }

  forEach(cb: (value: T, key: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const v of this.set) cb.call(thisArg, v, v, this);
  }

  keys(): SetIterator<T> {
    return this.set.keys();
  }

  values(): SetIterator<T> {
    return this.set.values();
  }

  entries(): SetIterator<[T, T]> {
    return this.set.entries();
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.set.values();
  }
}
