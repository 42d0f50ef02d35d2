import { admin } from "../api.ts";
import {
  budgetText,
  type IssuedKey,
  type Key,
  listText,
  localTime,
  pairsText,
  rateLimitsText,
  type Spend,
  spendText,
  statusOf,
} from "../governance.ts";
import { ConfirmButton } from "../parts/confirm-button.tsx";
import { Fact } from "../parts/fact.tsx";
import { changesOf } from "../parts/form-fields.tsx";
import { ErrorAlert } from "../parts/notices.tsx";
import { Panel } from "../parts/panel.tsx";
import type { Change } from "../parts/use-change.ts";
import { useLoad } from "../parts/use-query.ts";
import { KeyForm, settingsOfKey } from "./key-form.tsx";

/** One key: what it is and has spent, its settings to change, and rotating or revoking it. */
export function KeyPanel(props: {
  id: string;
  revision: number;
  change: Change;
  onIssued: (issued: IssuedKey) => void;
  onClose: () => void;
}) {
  const path = `/admin/keys/${encodeURIComponent(props.id)}`;
  const { data: key, error } = useLoad(() => admin.get<Key & { spend: Spend }>(path), [path, props.revision]);
  const status = key && statusOf(key);
  return (
    <Panel title={`Key ${props.id}`} onClose={props.onClose}>
      <ErrorAlert message={error} />
      {key && (
        <>
          <dl class="facts">
            <Fact label="Name" value={key.name ?? "–"} />
            <Fact label="Team" value={key.team} />
            <Fact label="Starts with" value={`${key.prefix}…`} />
            <Fact label="Status" value={statusText(key)} />
            <Fact label="End user" value={key.user ?? "–"} />
            <Fact label="Models" value={listText(key.models, "the team's")} />
            <Fact label="Budget" value={budgetText(key.budget)} />
            <Fact label="Spent" value={spendText(key.spend)} />
            <Fact label="Rate limits" value={rateLimitsText(key.rateLimits)} />
            <Fact label="Tags" value={pairsText(key.tags)} />
            <Fact label="Metadata" value={pairsText(key.metadata)} />
            <Fact label="Created" value={localTime(key.createdAtMs)} />
          </dl>
          {status !== "revoked" && (
            <>
              <h3>Settings</h3>
              <KeyForm
                key={key.updatedAtMs}
                current={key}
                submitLabel="Save key"
                onSubmit={(settings) =>
                  props.change(() => admin.send("PATCH", path, changesOf(settingsOfKey(key), settings)))
                }
              />
              <h3>Rotate</h3>
              <RotateForm
                onRotate={(gracePeriodSeconds) =>
                  props.change(
                    () => admin.send<IssuedKey>("POST", `${path}/rotate`, { gracePeriodSeconds }),
                    props.onIssued,
                  )
                }
              />
              <h3>Revoke</h3>
              <ConfirmButton
                label="Revoke"
                question={`Revoke key ${key.id} for good? Every caller using it is refused at once.`}
                onConfirm={() => props.change(() => admin.send("POST", `${path}/revoke`))}
              />
            </>
          )}
        </>
      )}
    </Panel>
  );
}

function statusText(key: Key): string {
  const status = statusOf(key);
  if (status === "revoked") return `revoked ${localTime(key.revokedAtMs ?? 0)}`;
  const expiry =
    key.expiresAtMs === null
      ? ""
      : `, ${status === "expired" ? "since" : "until"} ${localTime(key.expiresAtMs)}`;
  const previous =
    key.previousHashExpiresAtMs !== null && key.previousHashExpiresAtMs > Date.now()
      ? `; the key it replaced works until ${localTime(key.previousHashExpiresAtMs)}`
      : "";
  return `${status}${expiry}${previous}`;
}

/** A new secret for the key; the old one keeps working for the grace period, so callers can switch. */
function RotateForm(props: { onRotate: (gracePeriodSeconds: number) => void }) {
  return (
    <form
      class="actions"
      onSubmit={(event) => {
        event.preventDefault();
        props.onRotate(Number(new FormData(event.currentTarget).get("grace")));
      }}
    >
      <label>
        Grace period (seconds the old key still works)
        <input type="number" name="grace" min={0} max={30 * 86_400} step={1} defaultValue="3600" required />
      </label>
      <button type="submit">Rotate</button>
    </form>
  );
}
