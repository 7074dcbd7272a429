// What crowdfund shows on /console: projects with their tags (crowdfund.projects), and each project's threads with
// their votes and replies (crowdfund.threads) — read-only queries of the module's own database.
import type { ConsoleHook } from '../../kernel/module.ts';
import type { CrowdfundDatabase } from './db.ts';

const SHOWN = 100;

export function projectsConsole(db: CrowdfundDatabase): ConsoleHook {
  return {
    async panels() {
      const projects = await db.selectFrom('projects').select(['id', 'project_name', 'tagline', 'created_at']).orderBy('id', 'desc').limit(SHOWN).execute();
      const tags = projects.length
        ? await db
            .selectFrom('tags')
            .select(['project_id', 'tag'])
            .where(
              'project_id',
              'in',
              projects.map((p) => p.id),
            )
            .execute()
        : [];
      return [
        {
          title: 'Projects',
          note: `The last ${SHOWN}, newest first.`,
          columns: ['id', 'name', 'tagline', 'tags', 'created'],
          rows: projects.map((p) => ({
            cells: [
              { text: String(p.id), href: `/projects/${p.id}` },
              p.project_name,
              p.tagline,
              tags
                .filter((t) => t.project_id === p.id)
                .map((t) => t.tag)
                .join(', ') || null,
              p.created_at,
            ],
          })),
        },
      ];
    },
  };
}

export function threadsConsole(db: CrowdfundDatabase): ConsoleHook {
  return {
    async panels() {
      const threads = await db
        .selectFrom('threads')
        .select(['id', 'project_id', 'thread_type', 'parent_thread_id', 'message', 'up_votes', 'down_votes', 'reply_count', 'created_at'])
        .orderBy('project_id', 'desc')
        .orderBy('id')
        .limit(SHOWN * 3)
        .execute();
      return [
        {
          title: 'Threads and votes',
          note: `By project, newest project first (at most ${SHOWN * 3} threads); replies name their parent thread.`,
          columns: ['project', 'thread', 'type', 'reply to', 'message', 'up', 'down', 'replies', 'created'],
          rows: threads.map((t) => ({
            cells: [t.project_id, t.id, t.thread_type, t.parent_thread_id || null, t.message, t.up_votes, t.down_votes, t.reply_count, t.created_at],
          })),
        },
      ];
    },
  };
}
