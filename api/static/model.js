// The screen's state: the read models as the REST API computed them, kept current by the
// feed's rows without asking the API again.
//
// A feed row is the projection's row as it is now. What one row decides on its own is applied
// exactly: a request's board item (time in step and overdue are computed here, on the clock),
// its place and status in the picture, an incident's GRIP, phase and report, and the national
// counts by status, kind and region. Totals that add up many rows (capacity per state, open
// demand, capacity deployed per incident) are corrected by the difference between a row and
// what the totals held for it before; when that earlier share is unknown the panel is marked
// stale and re-read from the REST API once it is reachable (screen.js). The scarcity ranking is
// re-read whenever demand, supply, priority or GRIP change.
//
// Bounded (issue 21): the model is loaded with the board's and the picture's first page and
// the server's exact counts beside them (board total and overdue, total incidents, summary),
// and holds besides only the rows the feed brought since (load() starts afresh). Where a first
// page held the whole list, the feed's rows keep it and its counts exactly, as before. Where
// it did not, a page shows the first of what it knows in the server's order, and a row's
// change marks the counts stale ("counts"): screen.js re-reads the first pages and the counts,
// at most every few seconds. The client's lists never grow with the store.

import {
  add,
  boardItem,
  capacityFigures,
  DEMANDING,
  deployedOf,
  demandOf,
  OPEN,
  onBoard,
  STATES,
} from "./readmodels.js";
import { gripRank } from "./terms.js";

/** Steps (API types, as the feed names events) that change neither what a request asks for
 * nor its bookings. */
const NEUTRAL = new Set(
  ["received", "assessed", "forwarded", "advised", "exhaustion_confirmed", "formalised", "informed"].map(
    (name) => `request.${name}`,
  ),
);
const PRIORITY = "request.priority_decided";
const NATIONAL_ROLES = new Set(["coordinator", "auditor", "admin"]);
const NATIONAL_KINDS = new Set([
  "jv_locc",
  "jv_ozi",
  "jv_dgpol",
  "jv_minister",
  "nctv_db3",
  "ncc",
  "auditor",
]);

/** Who the reader is on the feed (projections.routing.Scope.of). */
export function scopeOf(me, organisations) {
  const org = organisations.get(me.org);
  if (!org) return { kind: "org", org: me.org, region: null };
  if (NATIONAL_ROLES.has(me.role) || NATIONAL_KINDS.has(org.kind)) {
    return { kind: "national", org: me.org, region: null };
  }
  if (org.kind === "safety_region" && org.region) {
    return { kind: "region", org: me.org, region: org.region };
  }
  return { kind: "org", org: me.org, region: org.region };
}

/** The feed channels a reader subscribes to. */
export function channelsFor(scope) {
  if (scope.kind === "national") return ["national", "views"];
  if (scope.kind === "region") return [`region:${scope.region}`, "national", "views"];
  return [`provider:${scope.org}`, "national", "views"];
}

function groupFigures(group) {
  return {
    exists: group.exists,
    states: Object.fromEntries(STATES.map((s) => [s, group[s]])),
    cls: Object.keys(group.by_class)[0],
    forExercise: group.for_exercise || 0,
  };
}

function sameDict(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => (a[k] || 0) === (b[k] || 0));
}

// --- the model ------------------------------------------------------------------------------

export class Model {
  constructor(me, reference) {
    this.me = me;
    this.ref = {
      regions: new Map(reference.regions.map((r) => [r.code, r])),
      orgs: new Map(reference.organisations.map((o) => [o.code, o])),
      capabilities: new Map(reference.capabilities.map((c) => [c.code, c])),
      kinds: new Map(reference.request_kinds.map((k) => [k.code, k])),
      // Each classification's rank and marking (domain/envelope.py), lowest first.
      markings: new Map(reference.classification_markings.map((m) => [m.code, m])),
    };
    this.scope = scopeOf(me, this.ref.orgs);
    this.offset = 0; // server clock minus ours, ms
    this.targets = {};
    this.formalisationMinutes = 1440;
    this.loaded = false;
    this.events = []; // the newest events first, for the ticker
    this.seen = new Map(); // stream id -> [{type, position, version}] from the feed
    this.noted = 0; // the highest event position noted
    // A provider's requests (made, forwarded to it, booked with it): from the request list at
    // sign-in, then from the feed, whose rows for a provider are all its own.
    this.concerned = new Set();
    this.page = 50; // the first pages' size (screen.js asks for it)
    this.clear();
  }

  clear() {
    this.incidents = new Map();
    this.requests = new Map();
    this.rows = new Map(); // full request rows applied since the read models were loaded
    this.capacityRows = new Map();
    this.summary = null;
    this.wholeBoard = true; // the board's first page held the whole board
    this.wholePicture = true; // the picture's first page held every incident
    this.boardTotal = 0;
    this.boardOverdue = 0;
    this.totalIncidents = 0;
    this.overview = null;
    this.scarcity = null;
    this.stale = new Set();
    this.base = { low: 0, high: 0 };
  }

  now() {
    return Date.now() + this.offset;
  }

  /** Take the read models as the REST API gave them (all asked for at one position). */
  load({ picture, board, overview, scarcity, requests }) {
    this.clear();
    const positions = [picture, board, overview, scarcity].map((a) => a.position);
    this.base = { low: Math.min(...positions), high: Math.max(...positions) };
    this.offset = Date.parse(board.at) - Date.now();
    this.targets = board.targets_minutes;
    this.formalisationMinutes = board.formalisation_target_minutes;
    for (const incident of picture.incidents) {
      const { requests: listed, ...fields } = incident;
      this.incidents.set(incident.id, fields);
      for (const r of listed) {
        this.requests.set(r.id, { ...r, incident_id: incident.id });
      }
    }
    for (const item of board.items) {
      const known = this.requests.get(item.id) || {};
      this.requests.set(item.id, { ...known, ...item, status_since: item.in_step_since });
    }
    this.wholeBoard = !board.next;
    this.wholePicture = !picture.next;
    this.boardTotal = board.total ?? board.items.length;
    this.boardOverdue = board.overdue ?? 0;
    this.totalIncidents = picture.total_incidents ?? picture.incidents.length;
    this.summary = picture.summary;
    this.overview = overview;
    this.scarcity = scarcity;
    for (const r of requests || []) {
      if (this.ownRequest(r)) this.concerned.add(r.id);
    }
    this.loaded = true;
  }

  // --- who sees what ---

  ownRequest(r) {
    const org = this.scope.org;
    return (
      r.requester === org ||
      (r.forwarded_to || []).includes(org) ||
      (r.bookings || []).some((b) => b.provider === org) ||
      (r.next_actor || "").split(",").includes(org) ||
      // The policy's own list, where the row carries it (an organisation informed of it, LE
      // Preparatie on an art. 58 draft, ...): domain/policy.py involved.
      (r.involved || []).includes(org) ||
      (r.duties_outstanding || []).some((d) => d.by === org)
    );
  }

  shows(request) {
    if (this.scope.kind === "national") return true;
    if (this.scope.kind === "region") {
      // The REST answers were already cut to the region (picture entries carry no regions).
      if (request.regions === undefined) return true;
      return request.regions.includes(this.scope.region) || request.requester === this.scope.org;
    }
    return this.concerned.has(request.id) || this.ownRequest(request);
  }

  showsIncident(incident) {
    if (this.scope.kind === "national") return true;
    if (this.scope.kind === "region") return incident.regions.includes(this.scope.region);
    for (const r of this.requests.values()) {
      if (r.incident_id === incident.id && this.shows(r)) return true;
    }
    return false;
  }

  // --- the feed ---

  /** Note a frame's events (what happened to which stream), once each. */
  noteEvents(events) {
    for (const e of events) {
      if (e.position <= this.noted) continue; // a frame applied again after a reload
      this.noted = e.position;
      const list = this.seen.get(e.stream_id) || [];
      list.push({ type: e.type, position: e.position, version: e.version });
      if (list.length > 64) list.shift();
      this.seen.set(e.stream_id, list);
      this.events.unshift(e);
    }
    this.events.sort((a, b) => b.position - a.position);
    this.events.length = Math.min(this.events.length, 12);
  }

  /** Apply a frame's rows and summary; returns whether anything shown changed. */
  applyFrame(frame) {
    this.noteEvents(frame.events || []);
    if (!this.loaded) return false;
    for (const change of frame.rows || []) {
      if (!change.row) {
        // A board clock change: overdue is computed here; beyond a whole board, counted there.
        if (!this.wholeBoard) this.stale.add("counts");
        continue;
      }
      if (change.projection === "requests") this.applyRequest(change.row);
      else if (change.projection === "capacities") this.applyCapacity(change.row);
      else if (change.projection === "incidents") this.applyIncident(change.row);
    }
    if (frame.summary && this.scope.kind === "region") {
      this.summary = frame.summary;
      this.stale.delete("summary");
    }
    return true;
  }

  /** The feed's events on a stream after what the read models reflect. */
  since(stream) {
    return (this.seen.get(stream) || []).filter((e) => e.position > this.base.low);
  }

  /** Whether a row is older than what the read models (or an applied row) already show. */
  outdated(stream, version, applied) {
    if (applied && applied.version > version) return true;
    const reflected = (this.seen.get(stream) || []).filter((e) => e.position <= this.base.low);
    return reflected.some((e) => e.version > version);
  }

  /** The earlier share of a stream in the totals: exact, zero (new), the same (only neutral
   * steps), or null (unknown). */
  earlier(stream, applied, share, neutralOk) {
    if (applied) return share(applied);
    const after = this.since(stream);
    const created = after.find((e) => e.version === 1);
    if (created) return created.position > this.base.high ? "new" : null;
    if (neutralOk && after.every((e) => NEUTRAL.has(e.type))) return "same";
    return null;
  }

  applyRequest(row) {
    const applied = this.rows.get(row.id);
    if (this.outdated(row.id, row.version, applied)) return;
    const known = this.requests.get(row.id);
    // Beyond a whole first page the board's counts and order are the server's: re-read them.
    if (!this.wholeBoard || !this.wholePicture) this.stale.add("counts");
    const demandingBefore = known ? DEMANDING.has(known.status) : undefined;
    const sameDemanding =
      known !== undefined &&
      demandingBefore === DEMANDING.has(row.status) &&
      (known.status === "approved") === (row.status === "approved");

    if (this.scope.kind === "national") this.count(known, row);

    // Totals: deployed per incident (picture) and open demand per capability (overview).
    const deployedNow = deployedOf(row);
    const deployedBefore = this.earlier(row.id, applied, deployedOf, known !== undefined);
    if (this.shows(row)) {
      const before = known ? known.incident_id : null;
      if (deployedBefore === null) this.stale.add("picture");
      else if (deployedBefore === "new" || deployedBefore === "same") {
        if (deployedBefore === "new") this.addDeployed(row.incident_id, deployedNow, 1);
        else if (before !== row.incident_id) this.stale.add("picture");
      } else {
        this.addDeployed(before, deployedBefore, -1);
        this.addDeployed(row.incident_id, deployedNow, 1);
      }
    }
    const demandNow = demandOf(row);
    const demandBefore = this.earlier(row.id, applied, demandOf, sameDemanding);
    if (demandBefore === null) {
      this.stale.add("capacity");
      this.stale.add("scarcity");
    } else if (demandBefore !== "same") {
      const before = demandBefore === "new" ? {} : demandBefore;
      if (!sameDict(before, demandNow)) {
        this.addDemand(before, -1);
        this.addDemand(demandNow, 1);
        this.stale.add("scarcity");
      }
    }
    if (this.since(row.id).some((e) => e.type === PRIORITY)) {
      this.stale.add("scarcity");
    }
    if (known && (known.status === "approved") !== (row.status === "approved")) {
      // A capacity made ready for a request counts as reserved once it is approved.
      const held = (this.overview?.capabilities || []).some((c) => c.made_ready || c.reserved);
      if (held) this.stale.add("capacity");
    }

    this.rows.set(row.id, row);
    this.requests.set(row.id, row);
    if (this.scope.kind === "org" && this.ownRequest(row)) this.concerned.add(row.id);
  }

  /** National counts by status, kind and region (the picture's summary). */
  count(known, row) {
    const summary = this.summary;
    if (!summary) return;
    if (!known) {
      const created = this.since(row.id).find((e) => e.version === 1);
      if (!created || created.position <= this.base.high) {
        this.stale.add("summary");
        return;
      }
    } else if (known.status === row.status && sameList(known.regions, row.regions)) {
      return;
    } else if (!known.regions) {
      this.stale.add("summary");
      return;
    }
    if (known) this.tally(known, -1);
    this.tally(row, 1);
    this.prune();
  }

  tally(request, sign) {
    const s = this.summary;
    add(s.by_status, request.status, sign);
    add(s.by_kind, request.kind, sign);
    if (OPEN.has(request.status)) s.open_requests += sign;
    for (const code of request.regions) {
      const entry = (s.by_region[code] ||= {
        open_incidents: 0,
        highest_grip: null,
        requests: {},
      });
      add(entry.requests, request.status, sign);
    }
  }

  prune() {
    const byRegion = this.summary.by_region;
    for (const [code, entry] of Object.entries(byRegion)) {
      if (!entry.open_incidents && !Object.keys(entry.requests).length) delete byRegion[code];
    }
  }

  addDeployed(incidentId, deployed, sign) {
    const incident = incidentId && this.incidents.get(incidentId);
    if (!incident) return;
    incident.deployed = { ...incident.deployed };
    incident.en_route = { ...incident.en_route };
    incident.on_scene = { ...incident.on_scene };
    for (const [key, quantity] of Object.entries(deployed)) {
      const split = key.indexOf(":");
      const state = key.slice(0, split);
      const code = key.slice(split + 1);
      add(incident[state], code, sign * quantity);
      add(incident.deployed, code, sign * quantity);
    }
  }

  capability(code) {
    const list = this.overview.capabilities;
    let entry = list.find((c) => c.capability === code);
    if (!entry) {
      entry = {
        capability: code,
        exists: 0,
        by_class: {},
        capacities: 0,
        open_demand: 0,
        for_exercise: 0,
      };
      for (const s of STATES) entry[s] = 0;
      list.push(entry);
      list.sort((a, b) => (a.capability < b.capability ? -1 : 1));
    }
    return entry;
  }

  addDemand(demand, sign) {
    for (const [code, quantity] of Object.entries(demand)) {
      this.capability(code).open_demand += sign * quantity;
    }
    this.shortages();
  }

  shortages() {
    for (const c of this.overview.capabilities) {
      c.shortage = Math.max(0, c.open_demand - c.available);
    }
    this.overview.shortages = this.overview.capabilities.filter((c) => c.shortage > 0);
  }

  applyCapacity(row) {
    const applied = this.capacityRows.get(row.id);
    if (this.outdated(row.id, row.version, applied)) return;
    this.capacityRows.set(row.id, row);
    const statusOf = (id) => this.requests.get(id)?.status;
    const now = capacityFigures(row, statusOf);
    const key = [row.capability, row.provider, row.home_region || null];
    const rows = this.overview.rows;
    let group = rows.find(
      (g) => g.capability === key[0] && g.provider === key[1] && g.region === key[2],
    );
    let before;
    if (applied) before = capacityFigures(applied, statusOf);
    else {
      const created = this.since(row.id).find((e) => e.version === 1);
      if (created) before = created.position > this.base.high ? "new" : null;
      else before = group && group.capacities === 1 ? groupFigures(group) : null;
    }
    if (now === null || before === null || (applied && !group)) {
      this.stale.add("capacity");
      this.stale.add("scarcity");
      return;
    }
    if (!group) {
      group = {
        capability: key[0],
        provider: key[1],
        region: key[2],
        exists: 0,
        by_class: {},
        for_exercise: 0,
      };
      for (const s of STATES) group[s] = 0;
      group.capacities = 0;
      rows.push(group);
      rows.sort((a, b) =>
        `${a.capability}|${a.provider}|${a.region || ""}` <
        `${b.capability}|${b.provider}|${b.region || ""}`
          ? -1
          : 1,
      );
    }
    const total = this.capability(row.capability);
    for (const [figures, sign] of [
      [before === "new" ? null : before, -1],
      [now, 1],
    ]) {
      if (!figures) continue;
      for (const bucket of [group, total]) {
        bucket.exists += sign * figures.exists;
        for (const s of STATES) bucket[s] += sign * figures.states[s];
        bucket.deployed = bucket.en_route + bucket.on_scene; // their sum, as the server's
        bucket.for_exercise = (bucket.for_exercise || 0) + sign * figures.forExercise;
        add(bucket.by_class, figures.cls, sign * figures.exists);
      }
    }
    if (before === "new") {
      group.capacities += 1;
      total.capacities += 1;
    }
    this.shortages();
    if (before === "new" || !sameDict(before.states, now.states) || before.exists !== now.exists) {
      this.stale.add("scarcity");
    }
  }

  applyIncident(row) {
    const known = this.incidents.get(row.id);
    if (this.outdated(row.id, row.version, known)) return;
    if (!known && !this.since(row.id).some((e) => e.version === 1)) {
      this.stale.add("picture");
    }
    this.incidents.set(row.id, {
      ...row,
      deployed: known ? known.deployed : {},
      en_route: known ? known.en_route : {},
      on_scene: known ? known.on_scene : {},
    });
    if (known && known.grip !== row.grip && this.scarcity?.capabilities.length) {
      this.stale.add("scarcity");
    }
    // Open incidents and GRIP per region from the incidents here: only when all are here.
    if (this.scope.kind === "national" && this.wholePicture) this.countIncidents();
    else if (this.scope.kind === "national") this.stale.add("counts");
  }

  /** Open incidents and the highest GRIP per region: every incident is here for the nation. */
  countIncidents() {
    const s = this.summary;
    if (!s) return;
    for (const entry of Object.values(s.by_region)) {
      entry.open_incidents = 0;
      entry.highest_grip = null;
    }
    let open = 0;
    for (const incident of this.incidents.values()) {
      if (incident.closed || incident.exercise) continue;
      open += 1;
      for (const code of incident.regions) {
        const entry = (s.by_region[code] ||= {
          open_incidents: 0,
          highest_grip: null,
          requests: {},
        });
        entry.open_incidents += 1;
        if (gripRank(incident.grip) > gripRank(entry.highest_grip)) {
          entry.highest_grip = incident.grip;
        }
      }
    }
    s.open_incidents = open;
    this.prune();
    s.by_region = Object.fromEntries(Object.entries(s.by_region).sort());
  }

  // --- what the panels show ---

  /** The board's first page as far as known: most urgent first, as the server orders it
   * (projections/readmodels.py board_order): the earliest deadline first, none last. */
  board() {
    const now = this.now();
    const items = [];
    for (const r of this.requests.values()) {
      if (!r.status_since || !this.shows(r)) continue;
      if (!onBoard(r)) continue;
      items.push(boardItem(r, now, this.targets, this.formalisationMinutes));
    }
    items.sort(
      (a, b) =>
        cmp(deadline(a), deadline(b)) ||
        b.secondsInStep - a.secondsInStep ||
        (a.id < b.id ? -1 : 1),
    );
    return this.wholeBoard ? items : items.slice(0, this.page);
  }

  /** The board's counts: of the items here where they are the whole board, else the
   * server's (re-read when stale). */
  boardCounts(items) {
    if (!this.wholeBoard) return { total: this.boardTotal, overdue: this.boardOverdue };
    const overdue = items.filter((i) => i.overdue || i.formalisationOverdue || i.informOverdue);
    return { total: items.length, overdue: overdue.length };
  }

  pictureIncidents() {
    let incidents = [...this.incidents.values()].filter((i) => this.showsIncident(i));
    incidents.sort(
      (a, b) =>
        Number(a.closed) - Number(b.closed) ||
        (a.title < b.title ? -1 : a.title > b.title ? 1 : 0) ||
        (a.id < b.id ? -1 : 1),
    );
    if (!this.wholePicture) incidents = incidents.slice(0, this.page);
    return incidents.map((incident) => ({
      ...incident,
      requests: [...this.requests.values()]
        .filter((r) => r.incident_id === incident.id && this.shows(r))
        // As the server orders them (projections/readmodels.py): submission, then id.
        .sort(
          (a, b) =>
            cmp(a.submitted_at || "", b.submitted_at || "") || cmp(a.id, b.id),
        ),
    }));
  }
}

/** A board item's earliest deadline (ms; Infinity: none). */
function deadline(item) {
  const dues = [item.due, item.formalisationDue, ...(item.duties || []).map((d) => d.dueMs)];
  return Math.min(...dues.filter((d) => d !== null && d !== undefined));
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameList(a, b) {
  if (!a || !b) return false;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
