// What a role shows on /console (kernel/console/): read-only tables of its own state and, at most, a few named actions.
// A module describes data; the kernel renders, escapes, checks access and logs every action. Nothing here is HTML.

/** A cell: text (escaped by the kernel), or a link to a path of this process's public port (a report, a resource). */
export type ConsoleCell = string | number | boolean | null | { text: string; href: string };

/** A button on a row: POSTs `action` of `role`'s hook with `arg`; drawn only when that role runs in this process. */
export interface ConsoleButton {
  role: string;
  action: string;
  arg: string;
  label: string;
}

export interface ConsolePanel {
  title: string;
  /** One line under the title: what the table shows, what it leaves out. */
  note?: string;
  columns: string[];
  rows: Array<{ cells: ConsoleCell[]; buttons?: ConsoleButton[] }>;
  /** A bar chart of one numeric column (its name) by the first column. */
  chart?: { column: string; unit: string };
}

/** An email this process sent, tried to send, or (without SMTP) only logged. */
export interface ConsoleMail {
  at: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** `smtp` sent, `log` only logged (no SMTP_URL), `failed` refused by the server (retried by the module). */
  outcome: 'smtp' | 'log' | 'failed';
  error?: string;
  attachments?: string[];
}

export interface ConsoleHook {
  /** Tables for the Modules page, read when the page is opened. */
  panels?(): Promise<ConsolePanel[]>;
  /** The Mail page: newest first, what this role sent or would have sent since the process started. */
  mail?(): ConsoleMail[];
  /** action → what it does with its argument; resolves a line saying what was done (logged with who did it). */
  actions?: Record<string, (arg: string) => Promise<string>>;
}
