import {
  apis,
  budgetGroup,
  type Key,
  limitsGroup,
  localTime,
  priorities,
  rateLimitsGroup,
  type Team,
} from "../governance.ts";
import {
  chosenOf,
  groupOf,
  groupValues,
  ListField,
  listOf,
  ModelsField,
  NumberGroupFields,
  textOf,
} from "../parts/form-fields.tsx";

/** A key's settings as POST and PATCH /admin/keys take them (null: not set, or cleared). */
export interface KeySettings {
  name: string | null;
  user: string | null;
  models: string[] | null;
  apis: string[] | null;
  priority: string | null;
  budget: Record<string, number> | null;
  rateLimits: Record<string, number> | null;
  limits: Record<string, number> | null;
  expiresAt: string | null;
}

/**
 * A key's settings as its form shows them untouched, to tell what an edit changed. An empty list
 * reads back as "not set", so an edit that leaves it alone never sends it (and never widens it).
 */
export function settingsOfKey(key: Key): KeySettings {
  return {
    name: key.name,
    user: key.user,
    models: key.models?.length ? key.models : null,
    apis: key.apis?.length ? apis.filter((api) => key.apis?.includes(api)) : null,
    priority: key.priority,
    budget: groupValues(budgetGroup, key.budget),
    rateLimits: groupValues(rateLimitsGroup, key.rateLimits),
    limits: groupValues(limitsGroup, key.limits),
    expiresAt: key.expiresAtMs === null ? null : isoOfLocal(expiryField(key.expiresAtMs)),
  };
}

function settingsOfForm(form: FormData): KeySettings {
  const expiry = textOf(form, "expiresAt");
  return {
    name: textOf(form, "name"),
    user: textOf(form, "user"),
    models: listOf(form, "models"),
    apis: chosenOf(form, "apis"),
    priority: textOf(form, "priority"),
    budget: groupOf(form, budgetGroup),
    rateLimits: groupOf(form, rateLimitsGroup),
    limits: groupOf(form, limitsGroup),
    expiresAt: expiry === null ? null : isoOfLocal(expiry),
  };
}

/** A datetime-local field's value (the browser's time zone) for a time. */
const expiryField = (ms: number) => localTime(ms).replace(" ", "T");
const isoOfLocal = (local: string) => new Date(local).toISOString();

/**
 * A new key's settings (with `teams` to choose its team from), or an existing key's (`current`).
 * The same fields serve both, so what can be set at creation can be changed later. Selects mark
 * their option `selected`: Preact (without compat) has no defaultValue for a select.
 */
export function KeyForm(props: {
  current?: Key;
  teams?: Team[];
  team?: string;
  submitLabel: string;
  onSubmit: (settings: KeySettings, team: string | null) => void;
}) {
  const current = props.current;
  return (
    <form
      class="stack"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        props.onSubmit(settingsOfForm(form), textOf(form, "team"));
      }}
    >
      <div class="fields">
        {props.teams && (
          <label>
            Team
            <select name="team" required>
              <option value="">Choose a team</option>
              {props.teams.map((team) => (
                <option key={team.id} value={team.id} selected={team.id === props.team}>
                  {team.id}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Name
          <input name="name" maxLength={128} defaultValue={current?.name ?? ""} />
        </label>
        <label>
          End user it stands for
          <input name="user" maxLength={128} defaultValue={current?.user ?? ""} />
        </label>
        <ModelsField models={current?.models} none="the team's" />
        <label>
          Priority (its default and ceiling)
          <select name="priority">
            <option value="">Not set</option>
            {priorities.map((priority) => (
              <option key={priority} selected={priority === current?.priority}>
                {priority}
              </option>
            ))}
          </select>
        </label>
        <label>
          Expires (your time zone; empty: never)
          <input
            type="datetime-local"
            name="expiresAt"
            defaultValue={current?.expiresAtMs ? expiryField(current.expiresAtMs) : ""}
          />
        </label>
      </div>
      <ListField
        name="apis"
        legend="APIs (none ticked: every API but the dashboard)"
        options={apis}
        chosen={current?.apis}
      />
      <NumberGroupFields group={budgetGroup} values={current?.budget} />
      <NumberGroupFields group={rateLimitsGroup} values={current?.rateLimits} />
      <NumberGroupFields group={limitsGroup} values={current?.limits} />
      <p>
        <button type="submit">{props.submitLabel}</button>
      </p>
    </form>
  );
}
