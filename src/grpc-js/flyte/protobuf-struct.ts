import type { ProtoStruct, ProtoValue } from './flyte-protos.js';

/** A JSON value, as carried by `google.protobuf.Struct`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function fromValue(value: ProtoValue): JsonValue {
  // With `oneofs: true`, `kind` names the member that is set; without it, the first member present wins.
  const kind = value.kind ?? Object.keys(value).find((key) => key !== 'kind' && value[key as keyof ProtoValue] !== undefined);
  switch (kind) {
    case 'stringValue':
      return value.stringValue ?? '';
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return fromProtoStruct(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromValue);
    default:
      return null;
  }
}

/** A decoded `google.protobuf.Struct` (e.g. `UserInfoResponse.additionalClaims`) as a plain JSON object. */
export function fromProtoStruct(struct: ProtoStruct | null | undefined): Record<string, JsonValue> {
  const result: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) result[key] = fromValue(value);
  return result;
}

function toValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === 'bigint') return { stringValue: value.toString() };
  if (typeof value === 'object') return { structValue: toProtoStruct(value as Record<string, unknown>) };
  // Functions and symbols have no JSON form.
  return { nullValue: 'NULL_VALUE' };
}

/** A plain object as a `google.protobuf.Struct` that `@grpc/proto-loader` can encode. */
export function toProtoStruct(object: Record<string, unknown>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {};
  for (const [key, value] of Object.entries(object)) fields[key] = toValue(value);
  return { fields };
}
