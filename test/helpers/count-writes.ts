// Counts the calls of `write` on the instances of one class (a zlib stream class, net.Socket),
// for tests that check which path the library took; the prototype is restored on teardown.
type Test = { teardown(fn: () => void): void };
type Writer = { write: (...a: unknown[]) => boolean };

/** Counts `proto.write` calls for which `counts` (default: every call) holds. */
export function countWrites<T>(t: Test, proto: T, counts: (self: T, args: unknown[]) => boolean = () => true): { count(): number } {
  const target = proto as unknown as Writer;
  const own = Object.prototype.hasOwnProperty.call(target, 'write');
  const write = target.write;
  let n = 0;
  target.write = function (this: T, ...a: unknown[]) {
    if (counts(this, a)) n++;
    return write.apply(this, a);
  };
  t.teardown(() => {
    if (own) target.write = write;
    else delete (target as { write?: unknown }).write;
  });
  return { count: () => n };
}
