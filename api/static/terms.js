// Dutch terms as operators use them, and formatting. The API keeps its English code names.

export const STEP = {
  draft: "concept",
  exhaustion_check: "toets uitputting",
  submitted: "ingediend",
  received: "ontvangen",
  assessed: "beoordeeld",
  forwarded: "doorgezet",
  deciding: "in besluitvorming",
  approved: "toegekend",
  in_deployment: "in inzet",
  refused: "afgewezen",
  appealed: "in beroep",
  withdrawn: "ingetrokken",
  closed: "afgesloten",
  evaluated: "geëvalueerd",
};

const STEP_ORDER = Object.keys(STEP);

/** [step, count] pairs in the order of the procedure. */
export function byStep(counts) {
  const rank = (step) => (STEP_ORDER.includes(step) ? STEP_ORDER.indexOf(step) : 99);
  return Object.entries(counts).sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

export const PHASE = {
  koude: "koude fase",
  lauwe: "lauwe fase",
  warme: "warme fase",
  nafase: "nafase",
};

export const CAPACITY_STATE = {
  exists: "bestaand",
  available: "beschikbaar",
  reserved: "gereserveerd",
  made_ready: "gereedgesteld",
  committed: "toegezegd",
  en_route: "onderweg",
  on_scene: "ter plaatse",
  deployed: "ingezet",
  returning: "retour",
  unavailable: "niet inzetbaar",
  abroad: "buitenland",
  withheld: "afgeschermd",
};

// The task a request serves (data.task).
export const TASK = {
  crisis_management: "crisisbeheersing",
  public_order: "openbare orde",
  criminal_justice: "strafrechtelijke handhaving",
  public_interest: "openbaar belang",
};

export const CAPACITY_CLASS = {
  guaranteed: "gegarandeerd",
  by_agreement: "op afspraak",
  best_effort: "naar vermogen",
};

// Who acts next: organisation kinds (codes of organisations are shown as they are).
const ACTOR_KIND = {
  jv_locc: "LOCC",
  jv_ozi: "J&V OZI",
  jv_dgpol: "J&V DGPol",
  jv_minister: "Minister J&V",
  minister_jv: "Minister J&V",
  nctv_db3: "NCTV",
  ncc: "NCC",
  police_le: "Politie LE",
  police_unit: "politie-eenheid",
  kmar: "KMar",
  defence_dops: "Defensie DOPS",
  defence_doc: "Defensie DOC",
  defence_djz: "Defensie DJZ",
  defence_cds: "Defensie CDS",
  defence_jfc: "Defensie JFC",
  om_prosecutor: "OM",
  om_college: "College van PG's",
  safety_region: "veiligheidsregio",
  provider: "leverancier",
  ifv: "IFV",
};

export function actor(value) {
  if (!value) return "—";
  return value
    .split(",")
    .map((part) => ACTOR_KIND[part] || part)
    .join(", ");
}

// The feed names events by their API type (GET /v1/event-types).
const EVENT = {
  "request.drafted": "aanvraag opgesteld",
  "request.phoned_in": "telefonisch aangevraagd",
  "request.submitted": "ingediend",
  "request.formalised": "formulier ontvangen",
  "request.amended": "aanvraag gewijzigd",
  "request.received": "ontvangen",
  "request.exhaustion_confirmed": "uitputting bevestigd",
  "request.assessed": "beoordeeld",
  "request.forwarded": "doorgezet",
  "request.advised": "advies",
  "request.decided": "besluit",
  "request.priority_decided": "prioriteit besloten",
  "request.appealed": "beroep ingesteld",
  "request.appeal_decided": "besluit op beroep",
  "request.made_ready": "gereedgesteld",
  "request.committed": "toegezegd",
  "request.dispatched": "vertrokken",
  "request.arrived": "ter plaatse",
  "request.extended": "inzet verlengd",
  "request.relieved": "afgelost",
  "request.released": "vrijgegeven",
  "request.returned": "teruggekeerd",
  "request.withdrawn": "ingetrokken",
  "request.closed": "afgesloten",
  "request.evaluated": "geëvalueerd",
  "request.voided": "stap vervallen",
  "request.informed": "geïnformeerd",
  "incident.opened": "incident geopend",
  "incident.grip_changed": "GRIP gewijzigd",
  "incident.phase_changed": "fase gewijzigd",
  "incident.regions_changed": "regio's gewijzigd",
  "incident.situation_reported": "situatierapport",
  "incident.closed": "incident gesloten",
  "incident.voided": "stap vervallen",
  "capacity.registered": "capaciteit geregistreerd",
  "capacity.quantity_changed": "capaciteit gewijzigd",
  "capacity.availability_changed": "inzetbaarheid gewijzigd",
  "capacity.booked": "boeking gewijzigd",
  "capacity.voided": "stap vervallen",
};

export function eventLabel(event) {
  // A release before deployment cancels the booking: its step says so.
  if (event.type === "request.released" && event.data?.booking?.step === "cancelled") {
    return "geannuleerd";
  }
  if (event.type === "incident.grip_changed" && event.data?.grip) {
    return `naar ${grip(event.data.grip)}`;
  }
  return EVENT[event.type] || event.type;
}

export function grip(level) {
  if (level === null || level === undefined) return "—";
  return level === "rijk" ? "GRIP Rijk" : `GRIP ${level}`;
}

export function gripRank(level) {
  if (level === null || level === undefined) return -1;
  return level === "rijk" ? 6 : Number(level);
}

export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return `${days}d ${hours}u`;
  return `${hours}:${String(minutes).padStart(2, "0")}`;
}

const TIME = new Intl.DateTimeFormat("nl-NL", {
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Amsterdam",
});
const CLOCK = new Intl.DateTimeFormat("nl-NL", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZone: "Europe/Amsterdam",
});
const MOMENT = new Intl.DateTimeFormat("nl-NL", {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/Amsterdam",
});

export const time = (date) => TIME.format(date);
export const clock = (date) => CLOCK.format(date);
export const moment = (date) => MOMENT.format(date);

export function number(value) {
  return new Intl.NumberFormat("nl-NL").format(value);
}
