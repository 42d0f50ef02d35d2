import { type JSX, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { sessionInPage, signIn, signOut, type Who } from "./api.ts";
import { Audit } from "./pages/audit.tsx";
import { Batches } from "./pages/batches.tsx";
import { Cache } from "./pages/cache.tsx";
import { Keys } from "./pages/keys.tsx";
import { Overview } from "./pages/overview.tsx";
import { Providers } from "./pages/providers.tsx";
import { RequestDetail } from "./pages/request-detail.tsx";
import { Requests } from "./pages/requests.tsx";
import { Spend } from "./pages/spend.tsx";
import { Sql } from "./pages/sql.tsx";
import "./styles/base.css";
import "./styles/tables.css";
import "./styles/forms.css";
import "./styles/pages.css";

/** Moves to another view: `path` is the fragment after `#/`, e.g. `requests/<id>`. */
type Go = (path: string) => void;

/**
 * The views, in the order the navigation lists them. The URL's fragment names the one shown
 * (`#/<id>`), and what follows its id (`#/<id>/<rest>`) is the view's own, e.g. one request.
 * `admin` views are listed only for admin sessions (they call the admin API).
 */
const views: Array<{
  id: string;
  label: string;
  admin?: boolean;
  render: (rest: string, go: Go, who: Who) => JSX.Element;
}> = [
  { id: "overview", label: "Overview", render: () => <Overview /> },
  { id: "spend", label: "Spend", render: () => <Spend /> },
  {
    id: "requests",
    label: "Requests",
    render: (rest, go) =>
      rest ? (
        <RequestDetail id={rest} back={() => go("requests")} />
      ) : (
        <Requests open={(requestId) => go(`requests/${requestId}`)} />
      ),
  },
  { id: "keys", label: "Keys and teams", admin: true, render: () => <Keys /> },
  { id: "providers", label: "Providers and routes", render: () => <Providers /> },
  { id: "batches", label: "Batches", admin: true, render: () => <Batches /> },
  { id: "cache", label: "Cache", render: (_rest, _go, who) => <Cache canPurge={who.admin} /> },
  { id: "sql", label: "SQL", admin: true, render: () => <Sql /> },
  { id: "audit", label: "Audit log", admin: true, render: () => <Audit /> },
];

function useFragment(): [string, Go] {
  const read = () => location.hash.replace(/^#\/?/, "") || "overview";
  const [path, setPath] = useState(read);
  useEffect(() => {
    const changed = () => setPath(read());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return [path, (next) => (location.hash = `#/${next}`)];
}

function App() {
  // A signed-in browser's page came with its session: no round trip before the first view.
  const [who, setWho] = useState<Who | null>(() => sessionInPage() ?? null);
  const [path, go] = useFragment();
  if (who === null) return <SignIn onSignedIn={setWho} />;
  const [view = "", ...rest] = path.split("/");
  const shown = views.filter((item) => who.admin || !item.admin);
  const current = shown.find((item) => item.id === view) ?? (shown[0] as (typeof views)[number]);
  return (
    <div class="shell">
      <nav aria-label="Views">
        <strong class="brand">ai-gateway</strong>
        {shown.map((item) => (
          <a key={item.id} href={`#/${item.id}`} aria-current={current.id === item.id ? "page" : undefined}>
            {item.label}
          </a>
        ))}
        <span class="who">
          {who.name ?? who.keyId}
          {who.team ? ` · team ${who.team}` : who.admin ? " · admin" : ""}
        </span>
        <button type="button" onClick={() => signOut().then(() => setWho(null))}>
          Sign out
        </button>
      </nav>
      <main>{current.render(rest.join("/"), go, who)}</main>
    </div>
  );
}

/** Sign-in with a gateway key: the master key, a key with the dashboard right, or the generated key. */
function SignIn(props: { onSignedIn: (who: Who) => void }) {
  const [error, setError] = useState<string>();
  return (
    <main class="sign-in">
      <h1>ai-gateway</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const key = String(new FormData(event.currentTarget).get("key") ?? "");
          signIn(key).then(props.onSignedIn, (failure: Error) => setError(failure.message));
        }}
      >
        <label>
          Gateway key
          <input name="key" type="password" autocomplete="off" required autofocus />
        </label>
        <button type="submit">Sign in</button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <p class="meta">
        The master key, a key with the dashboard right (its team's data only), or the key the first start
        printed.
      </p>
    </main>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
