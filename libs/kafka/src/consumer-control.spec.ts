// Specs of ConsumerControl: the readings topic is what gets paused and resumed; commits are highest offset + 1.
import { describe, expect, it, jest } from '@jest/globals';

import { ConsumerControl, nextOffsets, type NextOffset } from './consumer-control.js';

const TOPIC = 'funnel.points';

/** The transport methods ConsumerControl drives. */
function fakeServer() {
  return {
    pause: jest.fn((_topics: string[]) => undefined),
    resume: jest.fn((_topics: string[]) => undefined),
    commit: jest.fn(async (_offsets: NextOffset[]) => undefined),
    onGroupJoin: jest.fn((_listener: () => void) => undefined),
  };
}

describe('ConsumerControl', () => {
  it('pauses and resumes the readings topic', () => {
    const server = fakeServer();
    const control = new ConsumerControl(server, TOPIC);
    control.pause();
    expect(server.pause).toHaveBeenCalledWith([TOPIC]);
    control.resume();
    expect(server.resume).toHaveBeenCalledWith([TOPIC]);
  });

  it('commits the offsets it is given and passes group-join listeners on', async () => {
    const server = fakeServer();
    const control = new ConsumerControl(server, TOPIC);
    const offsets = [{ topic: TOPIC, partition: 0, offset: '3' }];
    await control.commit(offsets);
    expect(server.commit).toHaveBeenCalledWith(offsets);
    const listener = () => undefined;
    control.onGroupJoin(listener);
    expect(server.onGroupJoin).toHaveBeenCalledWith(listener);
  });
});

describe('nextOffsets', () => {
  it('is the highest offset + 1 per topic-partition, whatever the order of the records', () => {
    const records = [
      { topic: TOPIC, partition: 0, offset: '7' },
      { topic: TOPIC, partition: 1, offset: '2' },
      { topic: TOPIC, partition: 0, offset: '12' },
      { topic: TOPIC, partition: 0, offset: '9' },
      { topic: 'other', partition: 0, offset: '1' },
    ];
    expect(nextOffsets(records)).toEqual([
      { topic: TOPIC, partition: 0, offset: '13' },
      { topic: TOPIC, partition: 1, offset: '3' },
      { topic: 'other', partition: 0, offset: '2' },
    ]);
  });

  it('keeps offsets beyond 2^53 exact', () => {
    expect(nextOffsets([{ topic: TOPIC, partition: 0, offset: '9007199254740993' }])).toEqual([
      { topic: TOPIC, partition: 0, offset: '9007199254740994' },
    ]);
  });

  it('is empty for no records', () => {
    expect(nextOffsets([])).toEqual([]);
  });
});
