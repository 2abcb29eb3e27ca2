/** GET /v1/pipeline: ingest, lag, flush and end-to-end numbers and readiness of every Funnel process known to the api. */
import { Controller, Get, Header } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';

import { RequireScope } from '@funnel/auth';
import { KnownQueryKeys } from '@funnel/contracts';

import type { ProcessStatus } from './pipeline-status.js';
import { PipelineStatusService } from './pipeline-status.service.js';

/** GET /v1/pipeline takes no parameters; any is a 400, like on every other /v1 route. */
class NoQueryDto {}

class PipelineStatusDto {
  @ApiProperty({ example: '2026-11-28T04:00:00.000Z', description: 'When the processes were asked' })
  sampledAt!: string;

  @ApiProperty({
    description:
      'This api process first, then each worker of PIPELINE_WORKER_URLS: role, readiness checks, counters since ' +
      'start (readingsAccepted, readingsConsumed, readingsWritten, deadLetters), bufferReadings, consumerLag per ' +
      'partition, and flush / end-to-end latency (count, mean, p50 and p95 bucket bounds in seconds). A process ' +
      'that does not answer is listed with reachable=false and the reason.',
    type: 'array',
    items: { type: 'object' },
  })
  processes!: ProcessStatus[];
}

@ApiTags('pipeline')
@Controller('v1/pipeline')
@RequireScope('read')
export class PipelineStatusController {
  constructor(private readonly status: PipelineStatusService) {}

  @Get()
  @KnownQueryKeys(NoQueryDto)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The pipeline's state, read server-side from each process's /metrics and /health/ready",
    description: 'Rates are for the caller to derive from two answers (counters are totals since each start).',
  })
  @ApiOkResponse({ type: PipelineStatusDto })
  @ApiBadRequestResponse({ description: 'A query parameter was given (this route takes none)' })
  pipeline(): Promise<PipelineStatusDto> {
    return this.status.status();
  }
}
