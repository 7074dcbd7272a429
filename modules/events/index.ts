// The events module: a receiver that validates ski-resort events and a storage that keeps them durably.
import { defineModule } from '../../kernel/module.ts';
import { eventsConfigSchema } from './config.ts';
import { storageContract } from './contract.ts';
import type { EventsDB } from './db.ts';
import { migrations } from './migrations/index.ts';
import { createReceiverRole } from './receiver/role.ts';
import { smokeEvents } from './smoke.ts';
import { createStorageRole } from './storage/role.ts';

export const events = defineModule<typeof eventsConfigSchema, EventsDB>({
  name: 'events',
  description: 'Snow reports and lift rides: validated on receipt, stored with group commit, queried by time, counted, audited by index',
  config: eventsConfigSchema,
  migrations,
  roles: {
    storage: {
      provides: storageContract,
      create: createStorageRole,
    },
    receiver: {
      uses: [storageContract],
      create: createReceiverRole,
    },
  },
  smoke: smokeEvents,
});
