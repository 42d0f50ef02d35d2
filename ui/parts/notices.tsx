/** What went wrong, read out at once by assistive technology; nothing when nothing did. */
export function ErrorAlert(props: { message: string | undefined }) {
  if (!props.message) return null;
  return (
    <p class="error" role="alert">
      {props.message}
    </p>
  );
}

/** One figure of a view: its label, its value, and a line of detail. */
export function Tile(props: { label: string; value: string; detail?: string }) {
  return (
    <div class="tile">
      <span class="tile-label">{props.label}</span>
      <strong class="tile-value">{props.value}</strong>
      {props.detail && <span class="tile-detail">{props.detail}</span>}
    </div>
  );
}
