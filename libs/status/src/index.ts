/** Public API of the status lib: the module serving GET /v1/pipeline (the console's Pipeline page reads it). */
export { StatusModule } from './status.module.js';
export { summarizeProcess, type ProcessStatus } from './pipeline-status.js';
