// The events.receiver role: validates incoming events and answers 201 only once storage has committed them.
import type { BaseContext, RoleInstance } from '../../../kernel/module.ts';
import { storageContract } from '../contract.ts';
import { receiverRoutes } from './routes.ts';

export function createReceiverRole(ctx: BaseContext): RoleInstance {
  return { routes: receiverRoutes(ctx.facade(storageContract)) };
}
