/** Who signed in, as the gateway tells the page (never a key). */
export interface Who {
  keyId: string;
  name: string | null;
  admin: boolean;
  team: string | null;
  csrf: string;
}

export interface QueryResult<Row> {
  rows: Row[];
  /** The totals row, for a query grouped WITH TOTALS. */
  totals?: Row;
  columns: Array<{ name: string; type: string }>;
  elapsedMs: number;
}

/** An answer the gateway refused, with its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  // Every change carries the session's CSRF token; reading needs only the cookie.
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as T & { error?: { message?: string } }) : ({} as T);
  if (!response.ok)
    throw new ApiError(
      response.status,
      (parsed as { error?: { message?: string } }).error?.message ?? response.statusText,
    );
  return parsed;
}

/** The session the page was served with: the gateway writes it in for a browser signed in. */
export function sessionInPage(): Who | undefined {
  const content = document.querySelector('meta[name="gateway-session"]')?.getAttribute("content");
  if (!content) return undefined;
  const who = JSON.parse(content) as Who;
  csrf = who.csrf;
  return who;
}

export async function signIn(key: string): Promise<Who> {
  const who = await call<Who>("POST", "/ui/api/session", { key });
  csrf = who.csrf;
  return who;
}

export async function signOut(): Promise<void> {
  await call("DELETE", "/ui/api/session");
  csrf = "";
}

/** Where one of the dashboard's queries answers with these parameters (`format: "csv"`: as a CSV file). */
export function queryUrl(name: string, params: Record<string, string | number> = {}): string {
  const search = new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)]));
  return `/ui/api/queries/${encodeURIComponent(name)}?${search}`;
}

/** One of the dashboard's queries (analytics/dashboard/), with its parameters. */
export function query<Row>(
  name: string,
  params: Record<string, string | number> = {},
): Promise<QueryResult<Row>> {
  return call("GET", queryUrl(name, params));
}

/** One capped period of a budget, as GET /ui/api/budgets answers (null spend: the ledger is down). */
export interface BudgetPeriod {
  period: "day" | "month" | "total";
  capUsd: number;
  startMs: number | null;
  endMs: number | null;
  spentUsd: number | null;
  heldUsd: number | null;
}

/** A team or key with a budget. */
export interface Budgeted {
  scope: "team" | "key";
  id: string;
  name: string | null;
  team: string;
  periods: BudgetPeriod[];
}

/** The budgets this session may see: every one for an admin, its own team's and key's for a team. */
export const budgets = () => call<{ atMs: number; data: Budgeted[] }>("GET", "/ui/api/budgets");

/** The admin API, as the signed-in key. */
export const admin = {
  get: <T>(path: string) => call<T>("GET", path),
  send: <T>(method: "POST" | "PATCH" | "DELETE", path: string, body?: unknown) => call<T>(method, path, body),
};

/** A deployment's live state, as GET /ui/api/deployments tells it. */
export interface DeploymentState {
  name: string;
  provider: string;
  model: string;
  weight: number;
  limits: { requestsPerMinute?: number; tokensPerMinute?: number; concurrency?: number };
  breaker: { state: "closed" | "half_open" } | { state: "open"; reopensInMs: number } | null;
  quota: { concurrent: number; requestsPerMinute: number; tokensPerMinute: number } | null;
}

export interface RoutesAndDeployments {
  routes: Array<{
    name: string;
    strategy: string;
    deployments: string[];
    fallbacks: string[];
    cacheTtlSeconds: number;
  }>;
  deployments: DeploymentState[];
  stateUnavailable: boolean;
}

/** The routes and each deployment's breaker and quota use now. */
export const deployments = () => call<RoutesAndDeployments>("GET", "/ui/api/deployments");
