import type { BatchStatus } from "../../batches/store.ts";
import type { Connection } from "../http.ts";
import { gatewayHttp } from "../http.ts";

/** The fields of OpenAI's batch object (and the gateway's `progress` extension) the CLI reads. */
export interface Batch {
  id: string;
  endpoint: string;
  status: BatchStatus;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: { data: Array<{ code: string; message: string; line?: number | null }> } | null;
  created_at: number;
  in_progress_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  /** The gateway's extension; absent from other OpenAI-compatible servers. */
  progress?: { done: number; cancelled: number; lines_per_second: number; eta_seconds: number | null };
}

export interface StoredFile {
  id: string;
  bytes: number;
  filename: string;
}

export interface NewBatch {
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  metadata?: Record<string, string>;
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;

/**
 * The gateway's Files and Batch endpoints, as the CLI uses them. `url` is the gateway's root; a
 * trailing `/v1` (the base URL an OpenAI SDK is given) is accepted too.
 */
export function createGatewayClient(connection: Connection) {
  const { call, json } = gatewayHttp(connection);
  return {
    uploadBatchInput(filename: string, content: Buffer): Promise<StoredFile> {
      const form = new FormData();
      form.append("purpose", "batch");
      form.append("file", new Blob([content]), filename);
      return json("POST", "/v1/files", form);
    },
    createBatch: (batch: NewBatch) => json<Batch>("POST", "/v1/batches", batch),
    getBatch: (id: string) => json<Batch>("GET", `/v1/batches/${encodeURIComponent(id)}`),
    listBatches: (limit: number) => json<{ data: Batch[] }>("GET", `/v1/batches?limit=${limit}`),
    cancelBatch: (id: string) => json<Batch>("POST", `/v1/batches/${encodeURIComponent(id)}/cancel`),
    async fileContent(id: string): Promise<Buffer> {
      const response = await call("GET", `/v1/files/${encodeURIComponent(id)}/content`);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}
