// The read models' computations that one row decides, ported from projections/readmodels.py
// (keep them in step: tests/screen checks a screen kept by these against a fresh one).

export const OPEN = new Set([
  "submitted",
  "received",
  "assessed",
  "forwarded",
  "deciding",
  "approved",
  "appealed",
]);
/** Requests whose demand counts against supply (appealed ones wait for the Minister). */
export const DEMANDING = new Set([...OPEN].filter((s) => s !== "appealed"));
export const STATES = [
  "available",
  "reserved",
  "made_ready",
  "committed",
  // dispatched is not arrived: on its way, and on scene (the server's ``deployed`` is their sum)
  "en_route",
  "on_scene",
  "returning",
  "unavailable",
  "abroad",
  "withheld",
];

/** A request's board item: step, due and overdue at ``now`` (ms), against the targets. */
export function boardItem(request, now, targets, formalisationMinutes) {
  const since = Date.parse(request.status_since);
  const submitted = request.submitted_at ? Date.parse(request.submitted_at) : null;
  const target = targets[request.step];
  const due = target ? since + (request.urgent ? target.urgent : target.normal) * 60000 : null;
  const formalisationDue =
    request.formalisation_outstanding && submitted !== null
      ? submitted + formalisationMinutes * 60000
      : null;
  // Outstanding duties to inform, each due ``inform`` minutes after it fell due.
  const inform = targets.inform;
  const duties = (request.duties_outstanding || []).map((duty) => {
    const dutyDue = inform
      ? Date.parse(duty.since) + (request.urgent ? inform.urgent : inform.normal) * 60000
      : null;
    return { ...duty, dueMs: dutyDue, overdue: dutyDue !== null && now >= dutyDue };
  });
  return {
    ...request,
    secondsInStep: (now - since) / 1000,
    due,
    overdue: due !== null && now >= due,
    formalisationDue,
    formalisationOverdue: formalisationDue !== null && now >= formalisationDue,
    duties,
    informOverdue: duties.some((d) => d.overdue),
  };
}

/** Whether a request row is on the board (projections/readmodels.py ``on_board``). */
export function onBoard(request) {
  return (
    OPEN.has(request.status) ||
    Boolean(request.formalisation_outstanding) ||
    request.step === "exhaustion_check" ||
    (request.duties_outstanding || []).length > 0
  );
}

export function add(totals, key, amount) {
  if (!amount) return;
  totals[key] = (totals[key] || 0) + amount;
  if (!totals[key]) delete totals[key];
}

/** A booking step that is deployed, and the state it is in (dispatched is not arrived). */
export const DEPLOYED_STEPS = { dispatched: "en_route", arrived: "on_scene" };

/** Capacity en route and on scene per capability (the picture's ``en_route`` and
 * ``on_scene``), keyed ``state:capability`` so that one dict's difference carries both. */
export function deployedOf(row) {
  const capabilities = Object.fromEntries(row.lines.map((l) => [l.line_id, l.capability]));
  const deployed = {};
  for (const booking of row.bookings) {
    const state = DEPLOYED_STEPS[booking.step];
    if (state) add(deployed, `${state}:${capabilities[booking.line_id]}`, booking.quantity);
  }
  return deployed;
}

/** What an open request asks for and is not yet committed, per capability. */
export function demandOf(row) {
  const demand = {};
  if (!DEMANDING.has(row.status)) return demand;
  for (const line of row.lines) {
    add(demand, line.capability, Math.max(0, wantedOf(row, line) - line.committed));
  }
  return demand;
}

/** What an open request wants of a line: all of it until decided; once approved, what was
 * granted and what providers still decide (their shares waiting), at most the line. */
export function wantedOf(row, line) {
  if (row.status !== "approved" || line.granted === null) return line.quantity;
  const waiting = (row.waiting_shares || [])
    .filter((w) => w.line_id === line.line_id && w.status === "forwarded")
    .reduce((n, w) => n + w.asked, 0);
  return Math.min(line.quantity, line.granted + waiting);
}

/** One capacity's quantity per state (null: a booking's request is unknown here). */
export function capacityFigures(row, statusOf) {
  const states = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const booking of row.bookings) {
    let state = booking.state;
    if (state === "deployed") state = "on_scene"; // a row of the code before, while rebuilding
    if (state === "made_ready") {
      const status = statusOf(booking.request_id);
      if (status === undefined) return null;
      if (status === "approved") state = "reserved";
    }
    states[state] += booking.quantity;
  }
  states.unavailable = row.unavailable;
  states.abroad = row.abroad;
  states.withheld = row.withheld || 0;
  states.available =
    row.exists - STATES.filter((s) => s !== "available").reduce((n, s) => n + states[s], 0);
  // Held for exercises: already in the states above; this says what for.
  return { exists: row.exists, states, cls: row.class, forExercise: row.for_exercise || 0 };
}
