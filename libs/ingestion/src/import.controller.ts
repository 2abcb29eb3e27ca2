/**
 * POST /v1/import: NDJSON bulk import, one Funnel reading per line, streamed. Lines are validated and published
 * in chunks as they are read (bounded memory whatever the body's size); refused lines are counted and listed.
 */
import { BadRequestException, Controller, Headers, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';

import { checkReadingSensors, RequireScope } from '@funnel/auth';
import { DependencyUnavailable, MAX_HEADER_ID_LENGTH, MAX_LISTED_ERRORS } from '@funnel/contracts';

import { linesOf } from './formats/ndjson.js';
import { asHttpError, bodyStream, CONTENT_ENCODINGS } from './formats/request-body.js';
import { ImportResultDto } from './ingest-response.dto.js';
import { ReadingsIntake, checkIdempotencyKey, idOrigin, type IdOrigin } from './readings.intake.js';
import { StoreFull } from './store-admission.js';
import { StoreFullFilter } from './store-full.filter.js';

/** Lines validated and published together. */
export const IMPORT_CHUNK_LINES = 1000;
/** Longest line read; a longer one is refused without being held. */
export const MAX_IMPORT_LINE_BYTES = 64 * 1024;
/** Chunks published and not yet acknowledged at once: reading goes on while the broker acknowledges. */
const CHUNKS_IN_FLIGHT = 4;

interface Chunk {
  items: unknown[];
  lines: number[];
}

@ApiTags('ingest')
@Controller('v1/import')
@RequireScope('write', { sensors: 'readings' })
@UseFilters(StoreFullFilter)
export class ImportController {
  constructor(private readonly intake: ReadingsIntake) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Bulk import NDJSON: one reading (the /v1/points shape) per line',
    description:
      `Streamed: chunks of ${IMPORT_CHUNK_LINES} lines are validated and published as they are read, in bounded ` +
      'memory. Valid lines are accepted and invalid ones refused (unlike /v1/points, one bad line does not refuse ' +
      'the rest); the answer comes once Kafka acknowledged every accepted reading. Blank lines are skipped. No ' +
      `overall size limit; a line over ${MAX_IMPORT_LINE_BYTES} bytes is refused.`,
  })
  @ApiConsumes('application/x-ndjson')
  @ApiBody({
    schema: { type: 'string' },
    examples: {
      lines: {
        value:
          '{"sensorId":"boiler-7","metric":"temperature","value":21.5,"ts":"2026-11-28T04:00:00Z"}\n' +
          '{"sensorId":"boiler-7","metric":"temperature","value":22.1,"ts":1795838430000}\n',
      },
    },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      `Optional, 1-${MAX_HEADER_ID_LENGTH} printable ASCII characters: readings without an id get ids from it and ` +
      'their line number, so sending the same body again with the same key stores each reading once (the CLI ' +
      'sends one key per chunk of its file, which makes an interrupted import safe to resume)',
  })
  @ApiHeader({ name: 'Content-Encoding', required: false, description: CONTENT_ENCODINGS })
  @ApiOkResponse({ type: ImportResultDto })
  @ApiBadRequestResponse({
    description: 'No reading at all in the body, a bad Idempotency-Key, or an undecodable body',
  })
  @ApiUnsupportedMediaTypeResponse({ description: `Body sent as application/json, or an unknown Content-Encoding` })
  @ApiServiceUnavailableResponse({
    description:
      'Kafka did not acknowledge, or the store is full: some chunks may have been published; send the same body ' +
      'with the same Idempotency-Key again and each reading is stored once',
  })
  async import(
    @Req() request: FastifyRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<ImportResultDto> {
    checkIdempotencyKey(idempotencyKey);
    const stream = bodyStream(request, 'application/x-ndjson (one JSON reading per line)');
    const result: ImportResultDto = { accepted: 0, refused: 0, errors: [] };
    const refuse = (line: number, reason: string) => {
      result.refused++;
      if (result.errors.length < MAX_LISTED_ERRORS) result.errors.push({ line, reason });
    };
    const base = idOrigin(idempotencyKey);
    const inFlight: Promise<void>[] = [];
    let chunk: Chunk = { items: [], lines: [] };
    const publishChunk = async () => {
      const taken = chunk;
      chunk = { items: [], lines: [] };
      if (inFlight.length >= CHUNKS_IN_FLIGHT) await inFlight.shift();
      const accepted = this.acceptChunk(request, taken, base, refuse);
      if (accepted !== undefined) {
        const counted = accepted.then((n) => void (result.accepted += n));
        counted.catch(() => undefined); // awaited below; a failure meanwhile must not count as unhandled
        inFlight.push(counted);
      }
    };
    try {
      for await (const line of linesOf(stream, MAX_IMPORT_LINE_BYTES)) {
        if (line.tooLong) {
          refuse(line.number, `line is longer than ${MAX_IMPORT_LINE_BYTES} bytes`);
          continue;
        }
        if (line.text.trim() === '') continue;
        let item: unknown;
        try {
          item = secureJson.parse(line.text, undefined, { protoAction: 'error', constructorAction: 'error' });
        } catch (error) {
          refuse(line.number, `not a JSON reading: ${(error as Error).message.slice(0, 200)}`);
          continue;
        }
        chunk.items.push(item);
        chunk.lines.push(line.number);
        if (chunk.items.length >= IMPORT_CHUNK_LINES) await publishChunk();
      }
    } catch (error) {
      await Promise.allSettled(inFlight);
      // Kafka or the store refusing is answered 503 by their filters; anything else came from reading the body.
      throw error instanceof DependencyUnavailable || error instanceof StoreFull ? error : asHttpError(error);
    }
    if (chunk.items.length > 0) await publishChunk();
    await Promise.all(inFlight);
    if (result.accepted === 0 && result.refused === 0) {
      throw new BadRequestException('the body has no readings; expected one JSON reading per line');
    }
    result.errors.sort((a, b) => a.line - b.line);
    if (result.refused > result.errors.length) result.moreErrors = result.refused - result.errors.length;
    return result;
  }

  /**
   * Validates one chunk; its invalid lines are refused and the rest validated again without them (then they
   * pass). Returns the publish of the valid readings, resolving to how many, or undefined when none is valid.
   */
  private acceptChunk(
    request: FastifyRequest,
    chunk: Chunk,
    base: IdOrigin,
    refuse: (line: number, reason: string) => void,
  ): Promise<number> | undefined {
    const receivedAt = Date.now();
    // A prefix-limited token: a line outside the prefix stops the import (403) before its chunk is published;
    // chunks before it were published, as after a 503.
    checkReadingSensors(
      request,
      chunk.items.map((item) =>
        item !== null && typeof item === 'object' ? (item as { sensorId?: unknown }).sensorId : undefined,
      ),
      (i) => `line ${chunk.lines[i]}`,
      `nothing from line ${chunk.lines[0]} on was accepted`,
    );
    // Ids from the line number: unique in the body, and the same when the same body is sent again.
    const ids: IdOrigin = { idPrefix: `${base.idPrefix}${chunk.lines[0]}.`, repeatable: base.repeatable };
    const { points, refused } = this.intake.validateEach(chunk.items, receivedAt, ids);
    [...refused.entries()]
      .map(([index, e]) => ({ line: chunk.lines[index] ?? 0, reason: `${e.field} ${e.reason}`.trim() }))
      .sort((a, b) => a.line - b.line)
      .forEach((p) => refuse(p.line, p.reason));
    if (points.length === 0) return undefined;
    return this.intake.publish(points, receivedAt, ids).then(() => points.length);
  }
}
