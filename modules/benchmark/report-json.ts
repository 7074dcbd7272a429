// A report's JSON as the reports table keeps it: written by the api role (api/report.ts), mailed by the notifier.
import type { Summary } from './contract.ts';

export interface ReportJson {
  benchmark_id: string;
  name: string;
  benchmark_type: string;
  target_infra: string;
  target_eigen_platform_version: string;
  status: 'completed' | 'failed';
  error: string | null;
  created_at: string;
  summary: Summary;
  thresholds: 'passed' | 'failed';
  documents: Array<{ name: string; started_at: string | null; ended_at: string | null; upload_seconds: number | null }>;
}
