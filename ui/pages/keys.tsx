import { useState } from "preact/hooks";
import { admin } from "../api.ts";
import {
  budgetText,
  type IssuedKey,
  type Key,
  listText,
  localTime,
  rateLimitsText,
  statusOf,
  type Team,
} from "../governance.ts";
import { ErrorAlert } from "../parts/notices.tsx";
import { OneTimeSecret } from "../parts/one-time-secret.tsx";
import { Panel } from "../parts/panel.tsx";
import { type Change, useChange } from "../parts/use-change.ts";
import { useLoad } from "../parts/use-query.ts";
import { type Column, VirtualTable } from "../parts/virtual-table.tsx";
import { KeyForm } from "./key-form.tsx";
import { KeyPanel } from "./key-panel.tsx";
import { TeamForm } from "./team-form.tsx";
import { TeamPanel } from "./team-panel.tsx";

/** What the page has open above its tables: a form for something new, or one team or key. */
type Open = { kind: "new-team" | "new-key" } | { kind: "team" | "key"; id: string } | undefined;

const teamColumns: Array<Column<Team>> = [
  { label: "Id", width: "10em", cell: (team) => team.id },
  { label: "Name", width: "1fr", cell: (team) => team.name },
  { label: "Models", width: "1fr", cell: (team) => listText(team.models, "every model") },
  { label: "Budget", width: "1.5fr", cell: (team) => budgetText(team.budget) },
  { label: "Rate limits", width: "1fr", cell: (team) => rateLimitsText(team.rateLimits) },
  { label: "Status", width: "6em", cell: (team) => (team.disabled ? "disabled" : "active") },
];

const keyColumns: Array<Column<Key>> = [
  { label: "Id", width: "9em", cell: (key) => key.id },
  { label: "Name", width: "1fr", cell: (key) => key.name ?? "–" },
  { label: "Team", width: "0.8fr", cell: (key) => key.team },
  { label: "Models", width: "1fr", cell: (key) => listText(key.models, "the team's") },
  { label: "APIs", width: "1fr", cell: (key) => listText(key.apis, "all but dashboard") },
  { label: "Priority", width: "6em", cell: (key) => key.priority ?? "–" },
  { label: "Budget", width: "1.3fr", cell: (key) => budgetText(key.budget) },
  { label: "Rate limits", width: "1fr", cell: (key) => rateLimitsText(key.rateLimits) },
  {
    label: "Expires",
    width: "10em",
    cell: (key) => (key.expiresAtMs === null ? "never" : localTime(key.expiresAtMs)),
  },
  { label: "Status", width: "5em", cell: (key) => statusOf(key) },
];

/**
 * Teams and their keys through the admin API: list, filter by team, create, change, rotate and
 * revoke. A new or rotated key is shown once, in a panel of its own (OneTimeSecret).
 */
export function Keys() {
  const [team, setTeam] = useState("");
  const [open, setOpen] = useState<Open>();
  // The key just created or rotated, for its OneTimeSecret panel and nothing else.
  const [issued, setIssued] = useState<IssuedKey>();
  const { change, failure, revision } = useChange();
  const { data, error } = useLoad(
    () =>
      Promise.all([
        admin.get<{ data: Team[] }>("/admin/teams"),
        admin.get<{ data: Key[] }>(`/admin/keys${team ? `?team=${encodeURIComponent(team)}` : ""}`),
      ]),
    [team, revision],
  );
  const [teams, keys] = [data?.[0].data ?? [], data?.[1].data ?? []];
  const close = () => setOpen(undefined);
  return (
    <section aria-labelledby="keys-title" class="keys">
      <header class="page-head">
        <h1 id="keys-title">Keys and teams</h1>
        <label class="inline">
          Team
          <select value={team} onChange={(event) => setTeam(event.currentTarget.value)}>
            <option value="">All teams</option>
            {teams.map((item) => (
              <option key={item.id} value={item.id}>
                {item.id}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setOpen({ kind: "new-team" })}>
          New team
        </button>
        <button type="button" onClick={() => setOpen({ kind: "new-key" })}>
          New key
        </button>
      </header>
      <ErrorAlert message={failure ?? error} />
      {issued && (
        <OneTimeSecret
          title={`New key for ${issued.id}: copy it now`}
          secret={issued.key}
          onClose={() => setIssued(undefined)}
        />
      )}
      {open?.kind === "new-team" && <NewTeam change={change} onClose={close} />}
      {open?.kind === "new-key" && (
        <NewKey
          teams={teams}
          team={team}
          change={change}
          onClose={close}
          onIssued={(answer) => {
            close();
            setIssued(answer);
          }}
        />
      )}
      {open?.kind === "team" && (
        <TeamPanel id={open.id} revision={revision} change={change} onClose={close} />
      )}
      {open?.kind === "key" && (
        <KeyPanel id={open.id} revision={revision} change={change} onIssued={setIssued} onClose={close} />
      )}
      <h2>Teams</h2>
      <VirtualTable
        label="Teams"
        rows={teams}
        columns={teamColumns}
        rowKey={(row) => row.id}
        onOpen={(row) => setOpen({ kind: "team", id: row.id })}
      />
      <h2>Keys{team ? ` of team ${team}` : ""}</h2>
      <VirtualTable
        label="Keys"
        rows={keys}
        columns={keyColumns}
        rowKey={(row) => row.id}
        onOpen={(row) => setOpen({ kind: "key", id: row.id })}
      />
    </section>
  );
}

function NewTeam(props: { change: Change; onClose: () => void }) {
  return (
    <Panel title="New team" onClose={props.onClose}>
      <TeamForm
        submitLabel="Create team"
        onSubmit={(settings, id) =>
          props.change(() => admin.send("POST", "/admin/teams", { id, ...settings }), props.onClose)
        }
      />
    </Panel>
  );
}

function NewKey(props: {
  teams: Team[];
  team: string;
  change: Change;
  onClose: () => void;
  onIssued: (issued: IssuedKey) => void;
}) {
  return (
    <Panel title="New key" onClose={props.onClose}>
      <KeyForm
        teams={props.teams}
        team={props.team}
        submitLabel="Create key"
        onSubmit={(settings, team) =>
          props.change(
            () => admin.send<IssuedKey>("POST", "/admin/keys", { team, ...settings }),
            props.onIssued,
          )
        }
      />
    </Panel>
  );
}
