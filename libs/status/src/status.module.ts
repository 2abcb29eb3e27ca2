/** The api's view of the whole pipeline: GET /v1/pipeline reads each process's metrics and readiness. */
import { Module } from '@nestjs/common';

import { PipelineStatusController } from './pipeline-status.controller.js';
import { PipelineStatusService } from './pipeline-status.service.js';

@Module({
  controllers: [PipelineStatusController],
  providers: [PipelineStatusService],
})
export class StatusModule {}
