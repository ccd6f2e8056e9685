// The desk: record steps from the browser. Signs in like the wall screen, lists the caller's
// requests, shows a request with its timeline and the steps open to the caller now (open_steps),
// and offers each as a form generated from its event type's JSON Schema (form.js). Changes,
// the caller's own included, arrive through the feed (feed.js) and redraw the page.

import { Feed } from "./feed.js";
import { GeneratedForm } from "./form.js";
import { allPages } from "./pages.js";
import { channelsFor, Model } from "./model.js";
import { h, highestMarking, markings } from "./render.js";
import { forgetToken, keepToken, startSignIn } from "./signin.js";
import { CAPACITY_CLASS, eventLabel, grip, moment, PHASE, STEP, TASK } from "./terms.js";

const $ = (id) => document.getElementById(id);

/** Dutch names of codes the schemas enumerate (what is not here shows as its code). */
const TERMS = {
  ...TASK,
  ...PHASE,
  ...CAPACITY_CLASS,
  granted: "toegekend",
  partly_granted: "deels toegekend",
  refused: "afgewezen",
  no_market_alternative: "geen marktalternatief",
  own_capacity_insufficient: "eigen capaciteit ontoereikend",
  police_exhausted_or_specialism: "politie uitgeput of specialisme",
  region_mayor_view: "zienswijze regioburgemeester",
  prosecutor_permission: "toestemming officier van justitie",
  door: "door",
  namens: "namens",
};

const state = {
  token: null,
  me: null,
  reference: null,
  model: null,
  types: new Map(),
  feed: null,
  requests: [],
  next: null,
  query: "",
  current: null, // the id of the subject shown (a request, an incident or a capacity)
  kind: "request", // which of them
  detail: null,
  timeline: [],
  timelineNext: null, // the timeline's next page (its steps come in pages)
  incidents: [],
  capacities: [],
  form: null, // {form, element, opener}
  reload: null,
  position: 0,
};

class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(path, { method = "GET", body, token = state.token } = {}) {
  const response = await fetch(path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      "Accept-Language": "nl",
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    cache: "no-store",
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new HttpError(response.status, parsed);
  return parsed;
}

/** A list answer's page: {items, next}. */
export function pageOf(answer) {
  return { items: answer?.items || [], next: answer?.next ?? null };
}

// --- reference lists for the forms ----------------------------------------------------------

const orgName = (code) => state.model.ref.orgs.get(code)?.name || code;
const orgOption = (code) => ({ value: code, label: `${code} — ${orgName(code)}` });
const capabilityLabel = (c) => `${c.dutch || c.name} (${c.code})`;

function myKind() {
  return state.model.ref.orgs.get(state.me.org)?.kind;
}

function formKind(form) {
  return form?.value().kind || state.detail?.kind;
}

function lineOf(lineId) {
  return (state.detail?.lines || []).find((l) => l.line_id === lineId);
}

function providersOf(capabilities) {
  const out = new Set();
  for (const code of capabilities) {
    for (const p of state.model.ref.capabilities.get(code)?.providers || []) out.add(p);
  }
  return [...out].sort();
}

/** The options of the reference list ``name`` for this caller, here (``at``: the row). */
function choices(form) {
  return (name, at) => {
    const ref = state.reference;
    const detail = state.detail;
    switch (name) {
      case "terms":
        return Object.entries(TERMS).map(([value, label]) => ({ value, label }));
      case "regions":
        return ref.regions.map((r) => ({ value: r.code, label: `${r.code} ${r.name}` }));
      case "municipalities": {
        const region = state.model.ref.orgs.get(state.me.org)?.region;
        const regions = region ? ref.regions.filter((r) => r.code === region) : ref.regions;
        return regions
          .flatMap((r) => r.municipalities)
          .sort()
          .map((m) => ({ value: m, label: m }));
      }
      case "request_kinds": {
        const kinds = ref.request_kinds.filter((k) => k.requesters.includes(myKind()));
        return (kinds.length ? kinds : ref.request_kinds).map((k) => ({
          value: k.code,
          label: `${k.dutch} (${k.legal_basis})`,
        }));
      }
      case "tasks": {
        const kind = state.model.ref.kinds.get(formKind(form));
        return (kind?.tasks || Object.keys(TASK)).map((t) => ({ value: t, label: TERMS[t] || t }));
      }
      case "capabilities": {
        const kind = formKind(form);
        return ref.capabilities
          .filter((c) => !kind || c.request_kinds.includes(kind))
          .map((c) => ({ value: c.code, label: capabilityLabel(c) }));
      }
      case "own_capabilities":
        return ref.capabilities
          .filter((c) => c.providers.includes(state.me.org))
          .map((c) => ({ value: c.code, label: capabilityLabel(c) }));
      case "request_capabilities":
        return [...new Set((detail?.lines || []).map((l) => l.capability))].map((code) => ({
          value: code,
          label: code,
        }));
      case "providers": {
        const line = at?.read ? lineOf(at.read("line_id")) : null;
        const wanted = line ? [line.capability] : (detail?.lines || []).map((l) => l.capability);
        return providersOf(wanted).map(orgOption);
      }
      case "organisations":
      case "duty_addressees":
        return ref.organisations.map((o) => orgOption(o.code));
      case "requesters": {
        const kind = state.model.ref.kinds.get(formKind(form));
        return ref.organisations
          .filter((o) => !kind || kind.requesters.includes(o.kind))
          .map((o) => orgOption(o.code));
      }
      case "incidents":
        return state.incidents
          .filter((i) => !i.closed)
          .map((i) => ({ value: i.id, label: i.title || i.id.slice(0, 8) }));
      case "request_lines":
        return (detail?.lines || []).map((l) => ({
          value: l.line_id,
          label: `${l.line_id} — ${l.capability} × ${l.quantity}`,
        }));
      case "bookings":
        return (detail?.bookings || []).map((b) => ({
          value: b.booking_id,
          label: `${b.provider} · ${b.line_id} × ${b.quantity} (${stepName(b.step)})`,
        }));
      case "own_capacities": {
        const line = at?.read ? lineOf(at.read("line_id")) : null;
        return state.capacities
          .filter((c) => c.provider === state.me.org && (!line || c.capability === line.capability))
          .map((c) => ({
            value: c.id,
            label: `${c.name || c.capability} — beschikbaar ${c.available} van ${c.exists}`,
          }));
      }
      case "duties":
        return (detail?.duties_outstanding || [])
          .filter((d) => d.by === state.me.org || d.by === myKind())
          .map((d) => ({ value: d.duty, label: `${d.duty} → ${d.to}` }));
      default:
        return [];
    }
  };
}

// --- the envelope: who signs (authority) and how classified ---------------------------------

function authorityPart(eventType) {
  return (form) => {
    const bodies = eventType.allowed?.authorities_by_request_kind || {};
    const body = h("select", { id: "authority-body" });
    const of = h("select", { id: "authority-of" });
    const capacity = h(
      "select",
      { id: "authority-capacity" },
      h("option", { value: "namens" }, "namens"),
      h("option", { value: "door" }, "door"),
    );
    const field = (id, label, control, pointer, help) =>
      h(
        "div",
        { class: "field", "data-pointer": pointer },
        h("label", { for: id, class: "required" }, label),
        control,
        h("small", { class: "help" }, help),
      );
    const element = h(
      "fieldset",
      { class: "authority", "data-pointer": "/authority" },
      h("legend", {}, "Bevoegd gezag"),
      field("authority-body", "Gezag", body, "/authority/body", "Wie de aanvraag ondertekent"),
      field("authority-of", "Van", of, "/authority/of", "Welke regio, gemeente of instantie"),
      field(
        "authority-capacity",
        "Door of namens",
        capacity,
        "/authority/capacity",
        "Getekend door het gezag zelf, of namens",
      ),
    );
    const fill = (select, options) => {
      const signature = options.map((o) => o.value).join("|");
      if (select.dataset.signature === signature) return;
      const keep = select.value;
      select.dataset.signature = signature;
      select.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.label)));
      if (options.some((o) => o.value === keep)) select.value = keep;
    };
    const update = () => {
      const allowed = bodies[formKind(form)] || [];
      element.hidden = allowed.length === 0;
      fill(
        body,
        allowed.map((code) => {
          const found = state.reference.authority_bodies.find((b) => b.code === code);
          return { value: code, label: found?.dutch || code };
        }),
      );
      const ofKind = state.reference.authority_bodies.find((b) => b.code === body.value)?.of;
      const own = state.model.ref.orgs.get(state.me.org);
      let options;
      if (ofKind === "region") {
        options = state.reference.regions
          .filter((r) => !own?.region || r.code === own.region)
          .map((r) => ({ value: r.code, label: `${r.code} ${r.name}` }));
      } else if (ofKind === "municipality") {
        options = choices(form)("municipalities", {});
      } else {
        options = state.reference.organisations
          .filter((o) => o.kind?.includes(ofKind || "-"))
          .map((o) => orgOption(o.code));
        if (!options.length) options = state.reference.organisations.map((o) => orgOption(o.code));
      }
      fill(of, options);
    };
    form.updaters.push(update);
    return {
      element,
      key: "authority",
      read: () =>
        element.hidden ? undefined : { body: body.value, of: of.value, capacity: capacity.value },
    };
  };
}

function classificationPart() {
  return () => {
    const select = h(
      "select",
      { id: "classification" },
      ...state.reference.classification_markings.map((m) =>
        h("option", { value: m.code }, m.marking || "Ongerubriceerd"),
      ),
    );
    const element = h(
      "div",
      { class: "field", "data-pointer": "/classification" },
      h("label", { for: "classification" }, "Rubricering"),
      select,
      h("small", { class: "help" }, "Hoe vertrouwelijk dit is (wie het mag zien)"),
    );
    return { element, key: "classification", read: () => select.value };
  };
}

// --- forms ----------------------------------------------------------------------------------

const STEP_LABEL = {
  submit: "Indienen",
  receive: "Ontvangen",
  assess: "Beoordelen",
  forward: "Doorzetten",
  decide: "Besluiten",
  commit: "Toezeggen",
  make_ready: "Gereedstellen",
  dispatch: "Vertrekken",
  arrive: "Aankomst melden",
  release: "Vrijgeven",
  return: "Teruggekeerd",
  extend: "Verlengen",
  relieve: "Aflossen",
  advise: "Adviseren",
  amend: "Wijzigen",
  withdraw: "Intrekken",
  close: "Afsluiten",
  evaluate: "Evalueren",
  inform: "Informeren",
  void: "Laatste stap vernietigen",
  formalise: "Formulier nazenden",
  appeal: "Beroep instellen",
  decide_appeal: "Besluiten op beroep",
  decide_priority: "Prioriteit besluiten",
  confirm_exhaustion: "Uitputting bevestigen",
};

/** The page of each kind of subject: its hash (``#/r/<id>``) and its API collection. */
const SUBJECTS = {
  request: { hash: "r", path: "requests" },
  incident: { hash: "i", path: "incidents" },
  capacity: { hash: "c", path: "capacities" },
};
const KIND_OF_HASH = Object.fromEntries(Object.entries(SUBJECTS).map(([k, v]) => [v.hash, k]));
const pageOfSubject = (kind, id) => `#/${SUBJECTS[kind].hash}/${id}`;

/** The steps on an incident or a capacity (a request's come from its ``open_steps``). */
const TYPE_LABEL = {
  "incident.situation_reported": "Situatierapport",
  "incident.grip_changed": "GRIP wijzigen",
  "incident.phase_changed": "Fase wijzigen",
  "incident.regions_changed": "Regio's wijzigen",
  "incident.closed": "Incident sluiten",
  "incident.voided": "Laatste stap vernietigen",
  "capacity.availability_changed": "Beschikbaarheid wijzigen",
  "capacity.quantity_changed": "Aantal wijzigen",
};

const CREATE_LABEL = {
  "request.drafted": "Nieuwe aanvraag",
  "request.phoned_in": "Telefonische aanvraag",
  "incident.opened": "Incident openen",
  "capacity.registered": "Capaciteit registreren",
};

function openForm(typeName, { subject = null, label, opener = null } = {}) {
  closeForm(false);
  const eventType = state.types.get(typeName);
  if (!eventType) return;
  const envelope = [];
  if (Object.values(eventType.allowed?.authorities_by_request_kind || {}).some((a) => a.length)) {
    envelope.push(authorityPart(eventType));
  }
  if (eventType.creates_subject) envelope.push(classificationPart());
  let form = null;
  const ask = (name, at) => choices(form)(name, at);
  form = new GeneratedForm({
    eventType,
    choices: ask,
    context: { get detail() { return subject ? state.detail : null; } },
    envelope,
  });
  form.subject = subject || crypto.randomUUID(); // a new subject's id, made once per form
  const status = h("div", { class: "form-status", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Vastleggen");
  const cancel = h("button", { type: "button" }, "Annuleren (Esc)");
  const element = h(
    "form",
    { class: "step-form", "data-type": typeName, "aria-label": label },
    h("h3", { title: eventType.summary }, label),
    status,
    form.element,
    h("div", { class: "buttons" }, submit, cancel),
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    send(form, element, status);
  });
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeForm(true);
    } else if (event.key === "Enter" && event.target.tagName === "TEXTAREA" && !event.shiftKey) {
      event.preventDefault(); // Enter submits; Shift+Enter starts a new line
      element.requestSubmit();
    }
  });
  cancel.addEventListener("click", () => closeForm(true));
  state.form = { form, element, opener, subject, key: focusKey(opener) };
  $("form-slot").replaceChildren(element);
  const first = element.querySelector(".generated input, .generated select, .generated textarea");
  (first || submit).focus();
}

function closeForm(restoreFocus) {
  const open = state.form;
  state.form = null;
  $("form-slot").replaceChildren();
  if (!restoreFocus || !open?.opener) return;
  // The page may have been drawn anew meanwhile: the same step's button, then.
  const again = document.contains(open.opener) ? open.opener : document.querySelector(open.key);
  again?.focus();
}

async function send(form, element, status) {
  for (const old of element.querySelectorAll(".refusal")) old.remove();
  status.className = "form-status";
  status.textContent = "Bezig met vastleggen…";
  form.occurredAt = form.occurredAt || new Date().toISOString();
  const item = {
    type: form.type.type,
    subject: form.subject,
    message_id: form.messageId,
    occurred_at: form.occurredAt,
    data: form.value(),
  };
  for (const part of form.envelope) {
    const value = part.read();
    if (value !== undefined) item[part.key] = value;
  }
  let receipt;
  try {
    receipt = await api("/v1/events", { method: "POST", body: item });
  } catch (error) {
    if (error.body?.error) {
      showRefusal(element, status, error.body.error);
    } else {
      status.className = "form-status refused";
      status.textContent =
        "Niet bevestigd (geen verbinding). Opnieuw vastleggen stuurt hetzelfde bericht: " +
        "het wordt niet dubbel vastgelegd.";
    }
    return;
  }
  const position = receipt.events.at(-1)?.position;
  state.position = Math.max(state.position, position || 0);
  const again = receipt.replayed ? " (was al vastgelegd)" : "";
  const note = `Vastgelegd op positie ${position}${again}.`;
  const opened = form.type.creates_subject ? form.type.subject : null;
  closeForm(false);
  const recorded = h("p", { class: "recorded", role: "status", tabindex: "-1" }, note);
  $("form-slot").replaceChildren(recorded);
  recorded.focus(); // the keyboard goes on from here (Tab: the page's steps)
  if (opened && SUBJECTS[opened]) location.hash = pageOfSubject(opened, form.subject);
  scheduleReload(0);
}

/** A refusal's reason next to the field its pointer names (else at the top), with its law. */
function showRefusal(element, status, error) {
  // The reason in the language asked; a field's own message (Dutch where the catalogue
  // has it) beside it when it says more.
  const text = (reason, more) =>
    h(
      "div",
      { class: "refusal", role: "alert" },
      h("strong", {}, reason),
      more && more !== reason ? h("span", { class: "field-msg" }, ` ${more}`) : null,
      error.source ? h("span", { class: "source" }, ` — ${error.source}`) : null,
      h("span", { class: "code muted" }, ` (${error.code})`),
    );
  let placed = false;
  for (const detail of error.details || []) {
    if (!detail?.pointer) continue;
    let pointer = detail.pointer;
    let target = null;
    while (pointer && !target) {
      target = element.querySelector(`[data-pointer="${CSS.escape(pointer)}"]`);
      pointer = pointer.slice(0, pointer.lastIndexOf("/"));
    }
    if (target) {
      target.append(text(error.reason, detail.msg));
      placed = true;
    }
  }
  status.className = "form-status refused";
  status.replaceChildren(
    placed ? `Geweigerd (${error.status}): zie hieronder.` : text(error.reason),
  );
  const first = element.querySelector(".refusal");
  if (first) first.scrollIntoView({ block: "nearest" });
}

// --- reading --------------------------------------------------------------------------------

async function loadList(more = false) {
  const params = new URLSearchParams();
  if (state.position) {
    params.set("min_position", state.position);
    params.set("wait", "5");
  }
  const query = state.query;
  if (query) params.set("q", query);
  if (more && state.next) params.set("cursor", state.next);
  // Read anew (a feed frame, a search): as many rows as are shown, so no loaded page goes.
  else params.set("limit", String(Math.min(500, Math.max(50, state.requests.length))));
  const page = pageOf(await api(`/v1/requests?${params}`));
  state.requests = more ? state.requests.concat(page.items) : page.items;
  state.next = page.next;
  state.listedQuery = query;
}

async function loadCurrent() {
  if (!state.current) {
    state.detail = null;
    return;
  }
  const id = state.current;
  const path = `/v1/${SUBJECTS[state.kind].path}/${id}`;
  const [detail, timeline] = await Promise.all([api(path), api(`${path}/timeline?limit=500`)]);
  if (id !== state.current) return;
  state.detail = detail;
  state.timeline = timeline.events || [];
  state.timelineNext = timeline.next;
}

/** The timeline's next page of steps, after those shown. */
async function loadMoreSteps() {
  const id = state.current;
  const path = `/v1/${SUBJECTS[state.kind].path}/${id}`;
  const cursor = encodeURIComponent(state.timelineNext);
  const page = await api(`${path}/timeline?limit=500&cursor=${cursor}`);
  if (id !== state.current) return;
  state.timeline = state.timeline.concat(page.events);
  state.timelineNext = page.next;
  drawPage();
}

/** ``min_position`` and ``wait``: a projection's rows once they hold what the feed told of. */
function reached() {
  return state.position ? `min_position=${state.position}&wait=5` : "";
}

async function loadSupport() {
  const own = `provider=${encodeURIComponent(state.me.org)}`;
  // Every page: a form's choices are all the caller's incidents and capacities.
  const [incidents, capacities] = await Promise.all([
    allPages(api, `/v1/incidents?${reached()}`).catch(() => ({ items: [] })),
    allPages(api, `/v1/capacities?${own}&${reached()}`).catch(() => ({ items: [] })),
  ]);
  state.incidents = incidents.items;
  state.capacities = capacities.items;
}

function scheduleReload(delay = 250) {
  clearTimeout(state.reload);
  state.reload = setTimeout(reloadAll, delay);
}

async function reloadAll() {
  try {
    await Promise.all([loadList(), loadCurrent(), loadSupport()]);
  } catch (error) {
    if (error.status === 401) return signOut("De token is ongeldig, verlopen of ingetrokken.");
    if (error.status === 404 && state.current) state.detail = null;
  }
  draw();
  state.form?.form.refresh();
}

// --- drawing --------------------------------------------------------------------------------

/** While the server has not yet answered the search typed (``q=``, debounced), the page
 * narrows what it holds; once it has, its answer stands (it finds message ids too). */
function matches(request) {
  const q = state.query.trim().toLowerCase();
  if (!q || state.listedQuery === state.query) return true;
  return [request.title, request.id, request.requester, request.kind]
    .filter(Boolean)
    .some((v) => String(v).toLowerCase().includes(q));
}

function drawList() {
  const items = state.requests.filter(matches);
  $("request-list").replaceChildren(
    ...items.map((r) =>
      h(
        "li",
        { class: r.id === state.current ? "current" : null, "data-id": r.id },
        h(
          "a",
          { href: `#/r/${r.id}` },
          h("span", { class: "title" }, r.title || "(zonder titel)"),
          " ",
          ...markings(state.model, r),
          h("br"),
          h("small", { class: "muted" }, `${r.requester} · ${STEP[r.status] || r.status}`),
        ),
      ),
    ),
    ...(items.length ? [] : [h("li", { class: "muted" }, "Geen aanvragen.")]),
  );
  $("more").hidden = !state.next;
}

const LINE_COLUMNS = ["Regel", "Capaciteit", "Gevraagd", "Toegekend", "Toegezegd", "Ter plaatse"];
const stepName = (step) => eventLabel({ type: `request.${step}` });

/** A button per step, each opening its generated form (``data-step``: found again by focus). */
function actionButtons(steps, subject) {
  if (!steps.length) return h("span", { class: "muted" }, "Niets voor u op dit moment.");
  return steps.map(({ step, type, label }) => {
    const button = h("button", { type: "button", "data-step": step, "data-type": type }, label);
    button.addEventListener("click", () => openForm(type, { subject, label, opener: button }));
    return button;
  });
}

/** The timeline's steps shown so far, and the button that loads the next page of them. */
function timelineList() {
  const list = h(
    "ol",
    { class: "timeline" },
    ...state.timeline.map((e) =>
      h(
        "li",
        { "data-type": e.type },
        h("time", {}, moment(new Date(e.occurred_at))),
        " ",
        h("strong", {}, eventLabel(e)),
        ` — ${e.actor?.org || ""}`,
        " ",
        ...markings(state.model, e),
      ),
    ),
  );
  return [list, ...(state.timelineNext ? [moreStepsButton()] : [])];
}

/** The steps on an incident or a capacity: its ``open_steps`` (the server's, as a request's),
 * each labelled by the type it records. */
function stepsOn(detail) {
  return (detail.open_steps || [])
    .filter((s) => state.types.has(s.type))
    .map((s) => ({ ...s, label: TYPE_LABEL[s.type] || state.types.get(s.type).summary }));
}

/** What each subject's page ends with: the steps open to the caller now, then its timeline. */
function nowAndTimeline(actions, id) {
  return [
    h("h3", {}, "Nu te doen"),
    h("div", { class: "actions" }, actionButtons(actions, id)),
    h("h3", {}, "Tijdlijn"),
    ...timelineList(),
  ];
}

function requestPage(d) {
  const kind = state.model.ref.kinds.get(d.kind);
  const actions = (d.open_steps || [])
    .filter((s) => state.types.has(s.type))
    .map((s) => ({ ...s, label: STEP_LABEL[s.step] || state.types.get(s.type).summary }));
  return h(
    "article",
    { class: "request", "data-id": d.id, "data-status": d.status },
    h("h2", {}, d.title || "(zonder titel)", " ", ...markings(state.model, d)),
    h(
      "p",
      { class: "meta" },
      h("span", { class: "status" }, STEP[d.status] || d.status),
      ` · ${kind?.dutch || d.kind} · aanvrager ${d.requester}`,
      d.forwarded_to?.length ? ` · doorgezet aan ${d.forwarded_to.join(", ")}` : "",
    ),
    h(
      "table",
      { class: "lines" },
      h("thead", {}, h("tr", {}, ...LINE_COLUMNS.map((t) => h("th", {}, t)))),
      h(
        "tbody",
        {},
        ...d.lines.map((l) =>
          h(
            "tr",
            {},
            h("td", {}, l.line_id),
            h("td", {}, l.capability),
            h("td", {}, l.quantity),
            h("td", {}, l.granted ?? "—"),
            h("td", {}, l.committed),
            h("td", {}, l.on_scene),
          ),
        ),
      ),
    ),
    ...nowAndTimeline(actions, d.id),
  );
}

function incidentPage(d) {
  return h(
    "article",
    { class: "incident", "data-id": d.id },
    h("h2", {}, d.title || "(zonder titel)", " ", ...markings(state.model, d)),
    h(
      "p",
      { class: "meta" },
      h("span", { class: "status" }, grip(d.grip)),
      ` · ${PHASE[d.phase] || d.phase} · regio's ${d.regions.join(", ")}`,
      d.closed ? " · gesloten" : "",
    ),
    d.latest_report ? h("p", { class: "report" }, h("strong", {}, "Sitrap: "), d.latest_report) : null,
    ...nowAndTimeline(stepsOn(d), d.id),
  );
}

function capacityPage(d) {
  return h(
    "article",
    { class: "capacity", "data-id": d.id },
    h("h2", {}, d.name || d.capability, " ", ...markings(state.model, d)),
    h(
      "p",
      { class: "meta" },
      h("span", { class: "status" }, `beschikbaar ${d.available} van ${d.exists}`),
      ` · ${d.capability} · ${d.provider}`,
      ` · niet beschikbaar ${d.unavailable}`,
      d.abroad ? ` · buitenland ${d.abroad}` : "",
    ),
    ...nowAndTimeline(stepsOn(d), d.id),
  );
}

const PAGES = { request: requestPage, incident: incidentPage, capacity: capacityPage };

function drawPage() {
  const d = state.detail;
  if (!state.current || !d) {
    $("page").replaceChildren(
      h(
        "p",
        { class: "muted" },
        state.current
          ? "Dit is (nog) niet te zien."
          : "Kies een aanvraag, incident of capaciteit, of begin iets nieuws.",
      ),
    );
    return;
  }
  $("page").replaceChildren(PAGES[state.kind](d));
}

/** The incidents the caller sees and its own capacities, each a link to its page. */
function drawSubjects() {
  const link = (kind, row, title, about) =>
    h(
      "li",
      { class: row.id === state.current ? "current" : null, "data-id": row.id },
      h(
        "a",
        { href: pageOfSubject(kind, row.id) },
        h("span", { class: "title" }, title),
        " ",
        ...markings(state.model, row),
        h("br"),
        h("small", { class: "muted" }, about),
      ),
    );
  const none = (rows, text) => (rows.length ? [] : [h("li", { class: "muted" }, text)]);
  $("incident-list").replaceChildren(
    ...state.incidents.map((i) =>
      link(
        "incident",
        i,
        i.title || "(zonder titel)",
        `${grip(i.grip)} · ${PHASE[i.phase] || i.phase}${i.closed ? " · gesloten" : ""}`,
      ),
    ),
    ...none(state.incidents, "Geen incidenten."),
  );
  $("capacity-list").replaceChildren(
    ...state.capacities.map((c) =>
      link("capacity", c, c.name || c.capability, `beschikbaar ${c.available} van ${c.exists}`),
    ),
    ...none(state.capacities, "Geen eigen capaciteit."),
  );
}

function moreStepsButton() {
  const button = h("button", { type: "button", id: "more-steps" }, "Meer stappen laden");
  button.addEventListener("click", () => loadMoreSteps());
  return button;
}

/** A selector that finds the focused control again once it is drawn anew (keyboard users). */
function focusKey(element) {
  if (!element || element === document.body) return null;
  if (element.dataset?.step) return `.actions button[data-step="${element.dataset.step}"]`;
  const list = element.closest?.("#request-list, #incident-list, #capacity-list");
  if (list && element.getAttribute("href")) {
    return `#${list.id} a[href="${element.getAttribute("href")}"]`;
  }
  return null;
}

function draw() {
  if (!state.model) return;
  const focused = focusKey(document.activeElement);
  drawList();
  drawSubjects();
  drawPage();
  if (focused && document.activeElement === document.body) document.querySelector(focused)?.focus();
  const top = highestMarking(state.model, $("desk"));
  for (const id of ["marking-top", "marking-bottom"]) {
    const banner = $(id);
    banner.hidden = !top;
    banner.className = top ? `marking-banner marking-${top.code}` : "marking-banner";
    banner.textContent = top ? top.marking.toUpperCase() : "";
  }
}

function drawCreate() {
  const kind = myKind();
  const buttons = [];
  for (const t of state.types.values()) {
    if (!t.postable || !t.creates_subject) continue;
    const allowed = t.allowed || {};
    if (allowed.roles && !allowed.roles.includes(state.me.role)) continue;
    const kinds =
      allowed.org_kinds || Object.values(allowed.org_kinds_by_request_kind || {}).flat();
    if (kinds.length && !kinds.includes(kind)) continue;
    const label = CREATE_LABEL[t.type] || t.summary;
    const button = h("button", { type: "button", "data-create": t.type }, label);
    button.addEventListener("click", () => openForm(t.type, { label, opener: button }));
    buttons.push(button);
  }
  $("create").replaceChildren(...buttons);
}

// --- routing, feed, signing in --------------------------------------------------------------

function route() {
  const match = location.hash.match(/^#\/([ric])\/([0-9a-f-]{36})$/);
  const id = match ? match[2] : null;
  const kind = match ? KIND_OF_HASH[match[1]] : "request";
  if (id !== state.current || kind !== state.kind) {
    state.current = id;
    state.kind = kind;
    state.detail = null;
    if (state.form?.subject) closeForm(false);
    drawPage();
    scheduleReload(0);
  }
}

function onFrame(frame) {
  state.position = Math.max(state.position, frame.position || 0);
  scheduleReload();
}

const CONNECTION = {
  connecting: ["connecting", "◌ VERBINDEN…"],
  live: ["live", "● LIVE"],
  down: ["down", "✕ VERBINDING VERBROKEN"],
};

function onState(connection) {
  if (connection === "refused") return signOut("De token is ongeldig, verlopen of ingetrokken.");
  const [cls, text] = CONNECTION[connection] || CONNECTION.connecting;
  $("connection").className = cls;
  $("connection").textContent = text;
  if (connection === "live") scheduleReload(0);
}

async function signIn(token) {
  const me = await api("/v1/whoami", { token });
  const [reference, types] = await Promise.all([
    api("/v1/reference", { token }),
    api("/v1/event-types", { token }),
  ]);
  keepToken(token);
  Object.assign(state, { token, me, reference, model: new Model(me, reference) });
  state.types = new Map(types.filter((t) => t.postable).map((t) => [t.type, t]));
  $("who").textContent = `${me.org} · ${me.role}`;
  $("signin").hidden = true;
  $("desk").hidden = false;
  drawCreate();
  state.feed = new Feed({ token, channels: channelsFor, onFrame, onState });
  state.feed.start();
  route();
  await reloadAll();
}

function signOut(message = "") {
  if (state.feed) state.feed.stop();
  forgetToken();
  Object.assign(state, { token: null, model: null, feed: null, current: null, detail: null });
  closeForm(false);
  $("desk").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("token").value = "";
  $("token").focus();
}

$("search").addEventListener("input", () => {
  state.query = $("search").value;
  drawList();
  scheduleReload(400); // the server filters too, once it knows q=
});
$("more").addEventListener("click", async () => {
  await loadList(true);
  drawList();
});
window.addEventListener("hashchange", route);

startSignIn(signIn, signOut);
