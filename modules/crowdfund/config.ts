// The crowdfund module's settings, read from the environment with every other problem at start-up.
import { z } from 'zod';
import { envInt } from '../../kernel/config.ts';

export const crowdfundConfigSchema = z.object({
  CROWDFUND_MAX_TAGS: envInt(100, 20, 10_000).describe('most tags one project may carry (PUT /projects/tags past it: 409 TOO_MANY_TAGS)'),
  CROWDFUND_IDEMPOTENCY_TTL_MS: envInt(86_400_000, 60_000).describe('how long an Idempotency-Key of POST /projects/propose answers its first answer'),
});
export type CrowdfundConfig = z.infer<typeof crowdfundConfigSchema>;
