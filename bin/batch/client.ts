import type { BatchStatus } from "../../batches/store.ts";

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

/** A call that failed: the gateway's own message (OpenAI's `{"error": {"message"}}`), or why it could not be reached. */
export class GatewayRequestError extends Error {}

export type GatewayClient = ReturnType<typeof createGatewayClient>;

/**
 * The gateway's Files and Batch endpoints, as the CLI uses them. `url` is the gateway's root; a
 * trailing `/v1` (the base URL an OpenAI SDK is given) is accepted too.
 */
export function createGatewayClient({ url, key }: { url: string; key: string }) {
  const root = url.replace(/\/+$/, "").replace(/\/v1$/, "");

  async function call(method: string, path: string, body?: FormData | object): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, { method, headers, body: payload });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause;
      throw new GatewayRequestError(
        `cannot reach the gateway at ${root}: ${cause?.message ?? (error as Error).message}`,
      );
    }
    if (!response.ok) throw new GatewayRequestError(await errorMessage(response));
    return response;
  }

  const json = async <T>(method: string, path: string, body?: FormData | object): Promise<T> =>
    (await (await call(method, path, body)).json()) as T;

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

/** The message of an OpenAI-shaped error body, or what the status says when the body is not one. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON (a proxy's error page): fall through to the status.
  }
  return `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
}
