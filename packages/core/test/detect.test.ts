import { detectAndMap } from '../src/protocols/detect';
import { fixture, mapperInput } from './support/mapper-input';

// Routes without a protocol: a standard path decides before the payload's shape, so a payload that is
// invalid for its protocol is stored as that protocol with its faults, not taken for another one.
describe('protocol detection on routes that do not name one', () => {
  const invalidOip = { inputs: [{ name: 'x', shape: [1], data: [1] }] }; // no datatype: could pass for KServe v1 "inputs"

  test.each([
    ['/v2/models/credit/infer', 'oip-v2'],
    ['/api/v2/models/credit/versions/3/infer', 'oip-v2'],
  ])('an invalid OIP request on %s with an error response is oip-v2 with schema errors', (path, protocol) => {
    const out = detectAndMap(mapperInput({ path, request: invalidOip, response: { error: 'bad input' }, status: 400 }));
    expect(out.protocol).toBe(protocol);
    expect(out.error).toEqual({ status: 400, message: 'bad input' });
    expect(out.schema_errors).toEqual(expect.arrayContaining([expect.objectContaining({ part: 'request', path: '/inputs/0' })]));
  });

  test.each([
    ['/v1/models/iris:predict', { instances: [[6.8, 2.8, 4.8, 1.4]] }, 'kserve-v1'],
    ['/v1/chat/completions', { messages: 'not a list' }, 'openai-chat'],
    ['/v1/completions', { prompt: 'Say this is a test' }, 'openai-completion'],
    ['/v1/embeddings', { input: 'hello' }, 'openai-embedding'],
  ])('%s is mapped by its path', (path, request, protocol) => {
    expect(detectAndMap(mapperInput({ path, request, response: { error: 'x' }, status: 400 })).protocol).toBe(protocol);
  });

  test('elsewhere the shape decides: OIP tensors, an OpenAI chat request, anything else raw', () => {
    expect(detectAndMap(mapperInput({ path: '/score', request: fixture('oip/spec-infer-request.json'), response: {} })).protocol).toBe(
      'oip-v2',
    );
    expect(
      detectAndMap(
        mapperInput({ path: '/chat', request: fixture('openai/chat.request.json'), response: fixture('openai/chat.response.json') }),
      ).protocol,
    ).toBe('openai-chat');
    expect(detectAndMap(mapperInput({ path: '/other', request: { hello: 'world' }, response: { ok: true } })).protocol).toBe('raw');
  });
});
