// Dutch terms as operators use them, and formatting. The API keeps its English code names.

export const STEP = {
  draft: "concept",
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
  deployed: "ingezet",
  returning: "retour",
  unavailable: "niet inzetbaar",
  abroad: "buitenland",
  withheld: "afgeschermd",
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

// The feed names events by their stored topic.
const EVENT = {
  "mlob:AssistanceRequest.Drafted": "aanvraag opgesteld",
  "mlob:AssistanceRequest.PhonedIn": "telefonisch aangevraagd",
  "mlob:AssistanceRequest.Submitted": "ingediend",
  "mlob:AssistanceRequest.Formalised": "formulier ontvangen",
  "mlob:AssistanceRequest.Amended": "aanvraag gewijzigd",
  "mlob:AssistanceRequest.Received": "ontvangen",
  "mlob:AssistanceRequest.ExhaustionConfirmed": "uitputting bevestigd",
  "mlob:AssistanceRequest.Assessed": "beoordeeld",
  "mlob:AssistanceRequest.Forwarded": "doorgezet",
  "mlob:AssistanceRequest.Advised": "advies",
  "mlob:AssistanceRequest.Decided": "besluit",
  "mlob:AssistanceRequest.PriorityDecided": "prioriteit besloten",
  "mlob:AssistanceRequest.Appealed": "beroep ingesteld",
  "mlob:AssistanceRequest.AppealDecided": "besluit op beroep",
  "mlob:AssistanceRequest.LineBooked": "capaciteit geboekt",
  "mlob:AssistanceRequest.LineMoved": "inzet",
  "mlob:AssistanceRequest.Withdrawn": "ingetrokken",
  "mlob:AssistanceRequest.Closed": "afgesloten",
  "mlob:AssistanceRequest.Evaluated": "geëvalueerd",
  "mlob:AssistanceRequest.Voided": "stap vervallen",
  "mlob:Incident.Opened": "incident geopend",
  "mlob:Incident.GripChanged": "GRIP gewijzigd",
  "mlob:Incident.PhaseChanged": "fase gewijzigd",
  "mlob:Incident.RegionsChanged": "regio's gewijzigd",
  "mlob:Incident.SituationReported": "situatierapport",
  "mlob:Incident.Closed": "incident gesloten",
  "mlob:Incident.Voided": "stap vervallen",
  "mlob:Capacity.Registered": "capaciteit geregistreerd",
  "mlob:Capacity.QuantityChanged": "capaciteit gewijzigd",
  "mlob:Capacity.AvailabilityChanged": "inzetbaarheid gewijzigd",
  "mlob:Capacity.BookingChanged": "boeking gewijzigd",
  "mlob:Capacity.Voided": "stap vervallen",
};

const BOOKING_STEP = {
  made_ready: "gereedgesteld",
  committed: "toegezegd",
  dispatched: "vertrokken",
  arrived: "ter plaatse",
  released: "vrijgegeven",
  returned: "teruggekeerd",
  cancelled: "geannuleerd",
};

export function eventLabel(event) {
  const step = event.data?.booking?.step;
  if (event.type.endsWith(".LineMoved") || event.type.endsWith(".LineBooked")) {
    if (BOOKING_STEP[step]) return BOOKING_STEP[step];
  }
  if (event.type === "mlob:Incident.GripChanged" && event.data?.grip) {
    return `naar ${grip(event.data.grip)}`;
  }
  return EVENT[event.type] || event.type.replace(/^mlob:/, "");
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
