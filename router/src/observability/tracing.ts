import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ExportResultCode,
  W3CTraceContextPropagator,
  type ExportResult,
} from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  noopInstrumentation,
  noopTrace,
  type FetchTrace,
  type FieldInstrumentation,
  type IncomingTrace,
  type Instrumentation,
  type PhaseName,
  type SubgraphOutcome,
  type Trace,
  type TraceAttributes,
} from '../instrumentation.js';
import type { Logger } from '../logger.js';

export interface TracingOptions {
  /** Where spans are sent: an OTLP/HTTP traces endpoint, JSON encoded. */
  endpoint: string;
  /** The `service.name` of every span. @default "edfs-router" */
  serviceName?: string;
  /**
   * Share of GraphQL-over-HTTP requests traced, when the client's `traceparent` does not
   * decide (a client's sampled flag is followed). @default 1
   */
  sampleRatio?: number;
  /** Share of event resolutions (one per fan-out group per event) traced. @default 0.01 */
  eventSampleRatio?: number;
  logger: Logger;
  /** How often spans are sent, in milliseconds. @default 5000 */
  exportDelayMs?: number;
}

export interface Tracing extends Instrumentation {
  /** Sends the spans not sent yet and stops; later spans are dropped. */
  shutdown(): Promise<void>;
}

/** Span attributes this module sets. */
const ATTR = {
  method: 'http.request.method',
  path: 'url.path',
  operationType: 'graphql.operation.type',
  subgraph: 'edfs.subgraph.name',
  subgraphOutcome: 'edfs.subgraph.outcome',
  batchFetches: 'edfs.batch.fetches',
  eventField: 'edfs.event.field',
} as const;

const propagator = new W3CTraceContextPropagator();

/**
 * OpenTelemetry tracing behind the instrumentation seam, on a tracer provider of its own
 * (not registered globally: several routers may share a process, and Apollo's executor
 * then adds no spans of its own). Contexts travel explicitly, in the `Trace` objects, so
 * no async-hooks context manager is needed.
 */
export function createTracing({
  endpoint,
  serviceName = 'edfs-router',
  sampleRatio = 1,
  eventSampleRatio = 0.01,
  logger,
  exportDelayMs = 5000,
}: TracingOptions): Tracing {
  const exporter = loggingFailures(new OTLPTraceExporter({ url: endpoint }), endpoint, logger);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    sampler: new RouterSampler(sampleRatio),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: exportDelayMs })],
  });
  const tracer = provider.getTracer('edfs-router');

  const byField = new Map<string, FieldInstrumentation>();
  const fieldHooks = (field: string): FieldInstrumentation => {
    const name = `resolve ${field}`;
    const attributes = { [ATTR.eventField]: field, [ATTR.operationType]: 'subscription' };
    return {
      ...noopInstrumentation.field(field),
      // Decided before any span exists, so an event not traced costs one random number.
      resolutionStarted: () =>
        Math.random() < eventSampleRatio
          ? traced(tracer, tracer.startSpan(name, { root: true, attributes }))
          : noopTrace,
    };
  };

  return {
    ...noopInstrumentation,
    field(name) {
      let hooks = byField.get(name);
      if (!hooks) byField.set(name, (hooks = fieldHooks(name)));
      return hooks;
    },
    requestStarted({ method, traceparent, tracestate }: IncomingTrace) {
      const parent = propagator.extract(
        ROOT_CONTEXT,
        { traceparent, tracestate },
        defaultTextMapGetter,
      );
      const verb = method === 'GET' || method === 'POST' ? method : 'HTTP';
      const span = tracer.startSpan(
        `${verb} /graphql`,
        { kind: SpanKind.SERVER, attributes: { [ATTR.method]: verb, [ATTR.path]: '/graphql' } },
        parent,
      );
      return traced(tracer, span);
    },
    shutdown: () =>
      provider
        .shutdown()
        .catch((error: unknown) => logger.warn({ err: error }, 'could not flush spans')),
  };
}

/** The `Trace` of a span; `noopTrace` when the sampler dropped it. */
function traced(tracer: Tracer, span: Span): Trace {
  if (!span.isRecording()) return noopTrace;
  return new SpanTrace(tracer, span);
}

class SpanTrace implements Trace {
  readonly #context: Context;

  constructor(
    readonly tracer: Tracer,
    readonly span: Span,
  ) {
    this.#context = trace.setSpan(ROOT_CONTEXT, span);
  }

  phase(name: PhaseName): Trace {
    return new SpanTrace(this.tracer, this.tracer.startSpan(name, {}, this.#context));
  }

  fetch(subgraph: string): FetchTrace {
    const span = this.tracer.startSpan(
      `fetch ${subgraph}`,
      { kind: SpanKind.CLIENT, attributes: { [ATTR.subgraph]: subgraph } },
      this.#context,
    );
    return new SpanFetchTrace(span);
  }

  annotate(attributes: TraceAttributes): void {
    this.span.setAttributes(attributes);
  }

  end(failed?: boolean): void {
    if (failed) this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
  }
}

class SpanFetchTrace implements FetchTrace {
  readonly headers: Readonly<Record<string, string>>;

  constructor(readonly span: Span) {
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    this.headers = headers;
  }

  batched(first: FetchTrace, size: number): void {
    this.span.setAttribute(ATTR.batchFetches, size);
    if (first === this || !(first instanceof SpanFetchTrace)) return;
    const link: Link = { context: first.span.spanContext() };
    this.span.addLink(link);
  }

  end(outcome: SubgraphOutcome): void {
    this.span.setAttribute(ATTR.subgraphOutcome, outcome);
    if (outcome !== 'ok') this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    this.span.end();
  }
}

/**
 * Requests: the client's sampled flag if it sent a `traceparent`, else `sampleRatio`.
 * Event resolutions were sampled by `eventSampleRatio` before their span was started.
 */
class RouterSampler implements Sampler {
  readonly #requests: Sampler;

  constructor(sampleRatio: number) {
    this.#requests = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) });
  }

  shouldSample(
    context: Context,
    traceId: string,
    name: string,
    kind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (attributes[ATTR.eventField] !== undefined && !trace.getSpanContext(context)) {
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    return this.#requests.shouldSample(context, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `RouterSampler{${this.#requests.toString()}}`;
  }
}

/** The exporter, its failures logged (OpenTelemetry's own diagnostics are silent). */
function loggingFailures(exporter: SpanExporter, endpoint: string, logger: Logger): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          logger.warn(
            { endpoint, spans: spans.length, err: result.error },
            'could not export spans',
          );
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
