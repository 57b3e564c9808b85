// limitDepth runs on every value of every record with one set of ancestors for all of them
// (record/sanitize.ts): what one walk leaves in it must never make the next one see a cycle.
import { MAX_JSON_DEPTH } from '../src/json';
import { limitDepth } from '../src/record/sanitize';

test('a cycle is cut, a shared object is not, and nesting past the limit is cut', () => {
  const shared = { a: 1 };
  expect(limitDepth({ x: shared, y: [shared, shared] })).toEqual({ x: shared, y: [shared, shared] });
  const cyclic: Record<string, unknown> = { name: 'loop' };
  cyclic.self = cyclic;
  expect(limitDepth(cyclic)).toEqual({ name: 'loop', self: '[circular reference: not stored]' });
  let deep: unknown = 'bottom';
  for (let i = 0; i < MAX_JSON_DEPTH + 5; i++) deep = [deep];
  expect(JSON.stringify(limitDepth(deep))).toContain('nested deeper than');
});

test("a getter that throws in an app's object leaves nothing behind for the next value", () => {
  let armed = true;
  const hostile = {
    inner: { ok: true },
    get boom(): unknown {
      if (!armed) return 'calm';
      armed = false;
      throw new Error('getter threw');
    },
  };
  const parent = { hostile };
  expect(() => limitDepth({ parent })).toThrow('getter threw');
  // `parent` and `hostile` were ancestors when the getter threw: walked again, they are no cycle.
  expect(limitDepth(hostile)).toBe(hostile);
  expect(limitDepth({ parent })).toEqual({ parent: { hostile: { inner: { ok: true }, boom: 'calm' } } });
});
