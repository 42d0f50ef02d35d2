import { budgetGroup, rateLimitsGroup, type Team } from "../governance.ts";
import {
  groupOf,
  groupValues,
  listOf,
  ModelsField,
  NumberGroupFields,
  textOf,
} from "../parts/form-fields.tsx";

/** A team's settings as PATCH /admin/teams takes them (a team's name is never cleared, only left out). */
export interface TeamSettings {
  name?: string;
  models: string[] | null;
  budget: Record<string, number> | null;
  rateLimits: Record<string, number> | null;
  disabled?: boolean;
}

/** A team's settings as its form shows them untouched, to tell what an edit changed. */
export function settingsOfTeam(team: Team): TeamSettings {
  return {
    name: team.name,
    models: team.models?.length ? team.models : null,
    budget: groupValues(budgetGroup, team.budget),
    rateLimits: groupValues(rateLimitsGroup, team.rateLimits),
    disabled: team.disabled,
  };
}

function settingsOfForm(form: FormData, editing: boolean): TeamSettings {
  const name = textOf(form, "name");
  return {
    ...(name !== null && { name }),
    models: listOf(form, "models"),
    budget: groupOf(form, budgetGroup),
    rateLimits: groupOf(form, rateLimitsGroup),
    ...(editing && { disabled: form.get("disabled") === "on" }),
  };
}

/**
 * A new team (its id asked for) or an existing one's settings (`current`): the same fields for
 * both. A team's budget and limits bind all its keys together, over each key's own.
 */
export function TeamForm(props: {
  current?: Team;
  submitLabel: string;
  onSubmit: (settings: TeamSettings, id: string | null) => void;
}) {
  const current = props.current;
  return (
    <form
      class="stack"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        props.onSubmit(settingsOfForm(form, current !== undefined), textOf(form, "id"));
      }}
    >
      <div class="fields">
        {!current && (
          <label>
            Team id (lower case, digits, - and _)
            <input name="id" required pattern="[a-z0-9][a-z0-9_\-]{0,62}" />
          </label>
        )}
        <label>
          Name
          <input name="name" maxLength={128} defaultValue={current?.name ?? ""} />
        </label>
        <ModelsField models={current?.models} none="every model" />
        {current && (
          <label class="check">
            <input type="checkbox" name="disabled" defaultChecked={current.disabled} />
            Disabled (its keys are refused)
          </label>
        )}
      </div>
      <NumberGroupFields group={budgetGroup} values={current?.budget} />
      <NumberGroupFields group={rateLimitsGroup} values={current?.rateLimits} />
      <p>
        <button type="submit">{props.submitLabel}</button>
      </p>
    </form>
  );
}
