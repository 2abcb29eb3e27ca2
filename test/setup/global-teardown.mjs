// Stops what global-setup.mjs started (and leftovers of dead runs), never what a live `devstack up` owns.
import { stopStarted } from '../../dist/libs/dev-infra/src/index.js';

export default async function globalTeardown() {
  await stopStarted();
}
