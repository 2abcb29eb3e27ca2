// Replays dead letters: each at most once (compare-and-set on replayedAt), and only when the store holds it whole.
import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { DeadLettersRepository, deadLetterBytes } from '@funnel/storage';

import { PointsPublisher } from './points.publisher.js';

/** Lists at most this many ids in a refusal. */
const NAMED = 10;

/**
 * Sends chosen dead letters back to the main topic, byte for byte as they were received (base64 letters
 * decoded back to their bytes). Like a text value that is not JSON, a binary value is replayed without asking
 * whether the worker can now decode it: the point of a replay is a worker that was fixed, and a record it still
 * cannot use just becomes a new dead letter, bytes intact. All or nothing: a request naming a
 * letter that is unknown (404), from another topic (400), not stored whole (422) or already replayed (409)
 * replays none of them. A letter is replayed once: its readings carry no client ids the worker could check, so a
 * second replay would store them twice.
 */
@Injectable()
export class DeadLetterReplay {
  constructor(
    private readonly deadLetters: DeadLettersRepository,
    private readonly publisher: PointsPublisher,
    private readonly config: FunnelConfig,
  ) {}

  /** Resolves with the count replayed, after the broker acknowledged them. */
  async replay(requested: readonly string[]): Promise<number> {
    const ids = [...new Set(requested)];
    const letters = await this.deadLetters.get(ids);
    const missing = ids.filter((id) => !letters.some((l) => l._id === id));
    if (missing.length > 0) {
      throw new NotFoundException(`no dead letter with id ${missing.slice(0, NAMED).join(', ')}`);
    }
    const foreign = letters.filter((l) => l.sourceTopic !== this.config.KAFKA_TOPIC);
    if (foreign.length > 0) {
      throw new BadRequestException(`dead letters ${foreign.map((l) => l._id).join(', ')} came from another topic`);
    }
    const incomplete = letters.filter((l) => l.incomplete !== undefined);
    if (incomplete.length > 0) {
      const [first] = incomplete;
      throw new UnprocessableEntityException(
        `dead letter ${first._id} cannot be replayed: ${first.incomplete}, and a replay must not publish a ` +
          `truncated record (read it from ${first.sourceTopic}.dlq, partition ${first.partition}, source offset ` +
          `${first.offset}, in its headers)${incomplete.length > 1 ? `; ${incomplete.length - 1} more like it` : ''}; nothing was replayed`,
      );
    }
    const claim = await this.deadLetters.claimForReplay(ids);
    if (claim.taken.length > 0) {
      const named = claim.taken
        .slice(0, NAMED)
        .map((t) => (t.replayedAt ? `${t.id} (at ${t.replayedAt.toISOString()})` : t.id));
      throw new ConflictException(
        `dead letters already replayed: ${named.join(', ')}; replaying again would store their readings twice, ` +
          'so nothing was replayed',
      );
    }
    try {
      await this.publisher.publishRaw(letters.map((l) => ({ key: l.key, value: deadLetterBytes(l) })));
    } catch (error) {
      // Not published (as far as the broker told us): the letters may be replayed again.
      await this.deadLetters.releaseReplay(claim.token).catch(() => undefined);
      throw error;
    }
    await this.deadLetters.finishReplay(claim.token);
    return letters.length;
  }
}
