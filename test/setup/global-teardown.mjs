import { stopStarted } from '../../docker/local/infra.mjs';

export default async function globalTeardown() {
  await stopStarted();
}
