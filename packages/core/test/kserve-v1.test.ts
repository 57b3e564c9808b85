import { detectAndMap } from '../src/protocols/detect';
import { mapKserveV1 } from '../src/protocols/kserve-v1';
import { fixture, mapperInput } from './support/mapper-input';

// Payloads from KServe's V1 protocol docs, its sklearn/TensorFlow/explainer examples and TF Serving's REST
// API docs: test/fixtures/protocols/kserve-v1/SOURCES.md.
const kserve = (file: string) => fixture(`kserve-v1/${file}`);

// JSON does not keep "1.0" apart from "1": whole numbers are INT64, the rest FP64.
test('the V1 protocol page: instances and predictions become [2, 3] tensors; the model comes from the path', () => {
  const out = mapKserveV1({
    ...mapperInput({
      request: kserve('v1-protocol.predict-instances.request.json'),
      response: kserve('v1-protocol.predict.response.json'),
      params: { model: 'my-model' },
    }),
    path: '/v1/models/my-model:predict',
  });
  expect(out).toEqual({
    protocol: 'kserve-v1',
    model_name: 'my-model',
    model_version: null,
    inputs: [
      {
        name: 'instances',
        datatype: 'INT64',
        shape: [2, 3],
        data: [
          [1, 2, 5],
          [5, 6, 5],
        ],
      },
    ],
    parameters: null,
    outputs: [
      {
        name: 'predictions',
        datatype: 'INT64',
        shape: [2, 3],
        data: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
    ],
    response_parameters: null,
    inference_id: null,
  });
});

test('sklearn iris: integer class predictions are INT64', () => {
  const out = mapKserveV1(
    mapperInput({
      request: kserve('sklearn-iris.predict.request.json'),
      response: kserve('sklearn-iris.predict.response.json'),
      params: { model: 'sklearn-iris' },
    }),
  );
  expect(out.inputs).toEqual([
    {
      name: 'instances',
      datatype: 'FP64',
      shape: [2, 4],
      data: [
        [6.8, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6],
      ],
    },
  ]);
  expect(out.outputs).toEqual([{ name: 'predictions', datatype: 'INT64', shape: [2], data: [1, 1] }]);
});

test('TF Serving columnar inputs become one tensor per name; object predictions are JSON elements', () => {
  const out = mapKserveV1(
    mapperInput({
      request: kserve('tfserving.predict-columnar-inputs.request.json'),
      response: kserve('tensorflow-flowers.predict.response.json'),
    }),
  );
  expect(out.inputs).toEqual([
    { name: 'tag', datatype: 'BYTES', shape: [2], data: ['foo', 'bar'] },
    {
      name: 'signal',
      datatype: 'INT64',
      shape: [2, 5],
      data: [
        [1, 2, 3, 4, 5],
        [3, 4, 1, 2, 5],
      ],
    },
    {
      name: 'sensor',
      datatype: 'INT64',
      shape: [2, 2, 2],
      data: [
        [
          [1, 2],
          [3, 4],
        ],
        [
          [4, 5],
          [6, 8],
        ],
      ],
    },
  ]);
  expect(out.outputs).toEqual([
    {
      name: 'predictions',
      datatype: 'BYTES',
      shape: [1],
      data: kserve('tensorflow-flowers.predict.response.json').predictions,
      parameters: { content_type: 'json' },
    },
  ]);
});

test("explain: predictions and explanations, or an explainer's own object, become output tensors", () => {
  const documented = mapKserveV1({
    ...mapperInput({
      request: kserve('v1-protocol.explain-instances.request.json'),
      response: kserve('v1-protocol.explain.response.json'),
    }),
    path: '/v1/models/m:explain',
  });
  expect((documented.outputs as any[]).map((t) => [t.name, t.shape])).toEqual([
    ['predictions', [2, 3]],
    ['explanations', [2]],
  ]);
  const trusty = kserve('trustyai-housing.explain.response.json');
  const own = mapKserveV1({
    ...mapperInput({ request: kserve('trustyai-housing.explain.request.json'), response: trusty }),
    path: '/v1/models/housing:explain',
  });
  expect(own.outputs).toEqual([
    { name: 'explanations', datatype: 'BYTES', shape: [1], data: [trusty], parameters: { content_type: 'json' } },
  ]);
  expect(own.schema_errors).toBeUndefined();
});

test(':explain/ with a trailing slash is an explain call too, and is detected as KServe v1', () => {
  const trusty = kserve('trustyai-housing.explain.response.json');
  const exchange = {
    ...mapperInput({ request: kserve('trustyai-housing.explain.request.json'), response: trusty }),
    path: '/v1/models/housing:explain/',
  };
  for (const out of [mapKserveV1(exchange), detectAndMap(exchange)]) {
    expect(out.protocol).toBe('kserve-v1');
    expect(out.outputs).toEqual([
      { name: 'explanations', datatype: 'BYTES', shape: [1], data: [trusty], parameters: { content_type: 'json' } },
    ]);
    expect(out.schema_errors).toBeUndefined();
  }
});

test('an error body lands in error; a request without instances or inputs is kept raw with the reason', () => {
  const error = mapKserveV1(
    mapperInput({
      request: kserve('sklearn-iris.predict.request.json'),
      response: kserve('error.model-not-found.404.response.json'),
      status: 404,
    }),
  );
  expect(error.error).toEqual({ status: 404, message: 'Model with name InvalidModel does not exist.' });
  const bad = mapKserveV1(mapperInput({ request: { rows: [1] }, response: { result: 1 } }));
  expect(bad).toMatchObject({
    keepRequestBody: true,
    keepResponseBody: true,
    schema_errors: [
      { part: 'request', message: 'not a KServe v1 request: it needs "instances" (a list) or "inputs"' },
      { part: 'response', message: 'not a KServe v1 response: it needs "predictions", "explanations" or "outputs"' },
    ],
  });
});
