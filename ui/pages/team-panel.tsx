import { admin } from "../api.ts";
import {
  budgetText,
  listText,
  pairsText,
  rateLimitsText,
  type Spend,
  spendText,
  type Team,
} from "../governance.ts";
import { ConfirmButton } from "../parts/confirm-button.tsx";
import { Fact } from "../parts/fact.tsx";
import { changesOf } from "../parts/form-fields.tsx";
import { ErrorAlert } from "../parts/notices.tsx";
import { Panel } from "../parts/panel.tsx";
import type { Change } from "../parts/use-change.ts";
import { useLoad } from "../parts/use-query.ts";
import { settingsOfTeam, TeamForm } from "./team-form.tsx";

/** One team: what it has spent, its settings to change, and deleting it (once it has no live keys). */
export function TeamPanel(props: { id: string; revision: number; change: Change; onClose: () => void }) {
  const path = `/admin/teams/${encodeURIComponent(props.id)}`;
  const { data: team, error } = useLoad(
    () => admin.get<Team & { spend: Spend }>(path),
    [path, props.revision],
  );
  return (
    <Panel title={`Team ${props.id}`} onClose={props.onClose}>
      <ErrorAlert message={error} />
      {team && (
        <>
          <dl class="facts">
            <Fact label="Name" value={team.name} />
            <Fact label="Status" value={team.disabled ? "disabled: its keys are refused" : "active"} />
            <Fact label="Models" value={listText(team.models, "every model")} />
            <Fact label="Budget" value={budgetText(team.budget)} />
            <Fact label="Spent" value={spendText(team.spend)} />
            <Fact label="Rate limits" value={rateLimitsText(team.rateLimits)} />
            <Fact label="Tags" value={pairsText(team.tags)} />
            <Fact label="Metadata" value={pairsText(team.metadata)} />
          </dl>
          <h3>Settings</h3>
          <TeamForm
            key={team.updatedAtMs}
            current={team}
            submitLabel="Save team"
            onSubmit={(settings) =>
              props.change(() => admin.send("PATCH", path, changesOf(settingsOfTeam(team), settings)))
            }
          />
          <h3>Delete</h3>
          <ConfirmButton
            label="Delete team"
            question={`Delete team ${team.id}? Only a team whose keys are all revoked can be deleted.`}
            onConfirm={() => props.change(() => admin.send("DELETE", path), props.onClose)}
          />
        </>
      )}
    </Panel>
  );
}
