import { masterKey } from "./gateway.ts";

export interface AdminAnswer {
  status: number;
  body: Record<string, unknown> & { key: string; id: string };
}

/** Calls a test gateway's admin API (JSON in and out), with the master key unless told otherwise. */
export function adminApi(url: () => string) {
  return async (method: string, path: string, body?: unknown, key = masterKey): Promise<AdminAnswer> => {
    const response = await fetch(`${url()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as AdminAnswer["body"] };
  };
}
