// The crowdfund module's error codes (docs/errors.md tables them with every other module's).
import { defineErrors } from '../../kernel/errors.ts';

export const crowdfundErrors = defineErrors('crowdfund', {
  PROJECT_NOT_FOUND: { status: 404, description: 'crowdfund: no project with this id.' },
  THREAD_NOT_FOUND: { status: 404, description: 'crowdfund: no thread with this id (or not in the project named).' },
  PROJECT_NAME_TAKEN: { status: 409, description: 'crowdfund: POST /projects/propose with a project_name another project has.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, description: 'crowdfund: an Idempotency-Key sent again with a different proposal.' },
  TOO_MANY_TAGS: { status: 409, description: 'crowdfund: PUT /projects/tags would leave the project more tags than CROWDFUND_MAX_TAGS.' },
});
