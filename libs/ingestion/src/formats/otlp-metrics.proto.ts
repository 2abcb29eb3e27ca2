/**
 * The part of the OTLP metrics protocol Funnel decodes (opentelemetry-proto, Apache-2.0:
 * opentelemetry/proto/collector/metrics/v1/metrics_service.proto and the metrics, common and resource protos it
 * imports), as a protobufjs reflection descriptor. Field numbers and types are the proto's; fields Funnel does not
 * read are left out and skipped on decode. Histogram, exponential-histogram and summary points decode as empty
 * messages: only their count is used, to report them rejected.
 */
import protobuf from 'protobufjs';

const KEY_VALUE = { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } };
const points = (type: string) => ({ fields: { dataPoints: { rule: 'repeated', type, id: 1 } } });

const DESCRIPTOR = {
  nested: {
    otlp: {
      nested: {
        ExportMetricsServiceRequest: {
          fields: { resourceMetrics: { rule: 'repeated', type: 'ResourceMetrics', id: 1 } },
        },
        ExportMetricsServiceResponse: { fields: { partialSuccess: { type: 'ExportMetricsPartialSuccess', id: 1 } } },
        ExportMetricsPartialSuccess: {
          fields: { rejectedDataPoints: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
        },
        ResourceMetrics: {
          fields: {
            resource: { type: 'Resource', id: 1 },
            scopeMetrics: { rule: 'repeated', type: 'ScopeMetrics', id: 2 },
          },
        },
        Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        ScopeMetrics: { fields: { metrics: { rule: 'repeated', type: 'Metric', id: 2 } } },
        Metric: {
          oneofs: { data: { oneof: ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] } },
          fields: {
            name: { type: 'string', id: 1 },
            gauge: { type: 'Gauge', id: 5 },
            sum: { type: 'Sum', id: 7 },
            histogram: { type: 'Histogram', id: 9 },
            exponentialHistogram: { type: 'Histogram', id: 10 },
            summary: { type: 'Histogram', id: 11 },
          },
        },
        Gauge: points('NumberDataPoint'),
        Sum: points('NumberDataPoint'),
        Histogram: points('Opaque'),
        Opaque: { fields: {} },
        NumberDataPoint: {
          oneofs: { value: { oneof: ['asDouble', 'asInt'] } },
          fields: {
            attributes: { rule: 'repeated', type: 'KeyValue', id: 7 },
            timeUnixNano: { type: 'fixed64', id: 3 },
            asDouble: { type: 'double', id: 4 },
            asInt: { type: 'sfixed64', id: 6 },
            flags: { type: 'uint32', id: 8 },
          },
        },
        KeyValue: KEY_VALUE,
        AnyValue: {
          oneofs: {
            value: {
              oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'],
            },
          },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'Opaque', id: 5 },
            kvlistValue: { type: 'Opaque', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
export const ExportRequest = root.lookupType('otlp.ExportMetricsServiceRequest');
export const ExportResponse = root.lookupType('otlp.ExportMetricsServiceResponse');

/** Decoded messages as plain objects: 64-bit integers as decimal strings, oneof names present. */
export const OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: String, bytes: String, oneofs: true };

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  value?: string;
}
export interface OtlpKeyValue {
  key?: string;
  value?: OtlpAnyValue;
}
export interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[];
  timeUnixNano?: string;
  asDouble?: number;
  asInt?: string;
  flags?: number;
}
export interface OtlpMetric {
  name?: string;
  data?: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  sum?: { dataPoints?: OtlpNumberPoint[] };
  histogram?: { dataPoints?: unknown[] };
  exponentialHistogram?: { dataPoints?: unknown[] };
  summary?: { dataPoints?: unknown[] };
}
export interface OtlpRequest {
  resourceMetrics?: { resource?: { attributes?: OtlpKeyValue[] }; scopeMetrics?: { metrics?: OtlpMetric[] }[] }[];
}
