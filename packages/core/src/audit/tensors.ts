/** A tensor as a record stores it (OIP: name, datatype, shape, data, parameters); every field is logged data of any type. */
export interface LoggedTensor {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: unknown;
}

/** Whether a record's `inputs` or `outputs` is a list of tensors: objects with a name and data (else show it as JSON). */
export function isTensorList(value: unknown): value is LoggedTensor[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t) && 'name' in t && 'data' in t)
  );
}
