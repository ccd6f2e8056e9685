// Drawing the panels. Every text goes in as text (never as HTML); colours always come with words.

import {
  actor,
  byStep,
  CAPACITY_CLASS,
  duration,
  eventLabel,
  grip,
  number,
  PHASE,
  STEP,
  TASK,
  time,
} from "./terms.js";

/** A DOM element: h("td", {class: "x"}, "text", child, ...). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const $ = (id) => document.getElementById(id);

function regionName(model, code) {
  return model.ref.regions.get(code)?.name || code;
}

function capabilityName(model, code) {
  const found = model.ref.capabilities.get(code);
  return found ? found.dutch || found.name : code;
}

function kindName(model, code) {
  return model.ref.kinds.get(code)?.dutch || code;
}

function stale(model, ...names) {
  return names.some((n) => model.stale.has(n))
    ? h("span", { class: "stale", title: "wordt opnieuw opgehaald" }, "⟳ wordt bijgewerkt")
    : null;
}

/**
 * What is written on a classified item (and OEFENING on an exercise's), as on paper. The item
 * carries its classification so the page's banners can show the highest one (screen.js).
 */
export function markings(model, item) {
  const found = model.ref.markings.get(item?.classification);
  return [
    found?.marking
      ? h(
          "span",
          { class: `marking marking-${found.code}`, "data-classification": found.code },
          found.marking.toUpperCase(),
        )
      : null,
    item?.exercise ? h("span", { class: "badge exercise" }, "OEFENING") : null,
  ];
}

/** The highest classification marked on the page (null: nothing classified is shown). */
export function highestMarking(model, root) {
  let top = null;
  for (const element of root.querySelectorAll("[data-classification]")) {
    const found = model.ref.markings.get(element.dataset.classification);
    if (found && (!top || found.rank > top.rank)) top = found;
  }
  return top && top.marking ? top : null;
}

function gripBadge(level) {
  return h("span", { class: `grip grip-${level ?? "none"}` }, grip(level));
}

// --- the national picture -----------------------------------------------------------------

export function renderPicture(model, picture) {
  const { incidents, summary } = picture;
  const scope = model.scope;
  const title =
    scope.kind === "region"
      ? `Regio ${scope.region} ${regionName(model, scope.region)}`
      : scope.kind === "org"
        ? `Beeld voor ${scope.org}`
        : "Landelijk beeld";
  const parts = [h("h2", {}, title, stale(model, "picture", "summary"))];
  const open = incidents.filter((i) => !i.closed);
  if (summary && scope.kind !== "org") {
    // A region gets the national totals, and only its own region's details.
    const nation = scope.kind === "region" ? " landelijk" : "";
    const incidentsLabel = summary.open_incidents === 1 ? "incident" : "incidenten";
    parts.push(
      h(
        "div",
        { class: "totals" },
        total(summary.open_incidents, incidentsLabel + nation),
        total(summary.open_requests, `open aanvragen${nation}`),
        scope.kind === "region"
          ? null
          : total(
              Object.values(summary.by_region).filter((e) => e.open_incidents).length,
              "regio's in opschaling",
            ),
      ),
    );
    parts.push(regionGrid(model, summary));
  } else {
    parts.push(h("div", { class: "totals" }, total(open.length, "incidenten met uw aanvragen")));
  }
  // The wall holds the first page of incidents (open first): the exact count of all beside it.
  const every = picture.total_incidents ?? incidents.length;
  if (every > incidents.length) {
    parts.push(
      h("p", { class: "muted more" }, `eerste ${incidents.length} van ${every} incidenten getoond`),
    );
  }
  parts.push(
    h(
      "div",
      { class: "incidents" },
      incidents.length
        ? incidents.map((i) => incidentCard(model, i, scope.kind !== "org"))
        : h("p", {}, "Geen incidenten."),
    ),
  );
  $("picture").replaceChildren(...parts);
}

function total(value, label) {
  return h("div", { class: "total" }, h("b", {}, number(value)), h("span", {}, label));
}

function regionGrid(model, summary) {
  const scope = model.scope;
  const codes =
    scope.kind === "region" ? [scope.region] : [...model.ref.regions.keys()].sort();
  const tiles = codes.map((code) => {
    const entry = summary.by_region[code];
    const requests = entry ? Object.values(entry.requests).reduce((a, b) => a + b, 0) : 0;
    const level = entry?.open_incidents ? entry.highest_grip : null;
    return h(
      "div",
      {
        class: `tile ${level === null ? "quiet" : `grip-${level}`}`,
        "data-region": code,
        title: regionName(model, code),
      },
      h("b", {}, code),
      h("span", { class: "tile-grip" }, level === null ? "—" : grip(level).replace("GRIP ", "G")),
      requests ? h("span", { class: "tile-requests" }, `${requests} aanv.`) : null,
    );
  });
  const active = codes.filter((c) => summary.by_region[c]);
  return h(
    "div",
    { class: "regions" },
    scope.kind === "region" ? null : h("div", { class: "grid" }, tiles),
    h(
      "ul",
      { class: "active-regions" },
      active.map((code) => {
        const entry = summary.by_region[code];
        const counts = byStep(entry.requests)
          .map(([status, n]) => `${n} ${STEP[status] || status}`)
          .join(", ");
        return h(
          "li",
          { "data-region": code },
          h("b", {}, code),
          ` ${regionName(model, code)} `,
          entry.open_incidents ? gripBadge(entry.highest_grip) : null,
          h("span", { class: "muted" }, counts ? ` ${counts}` : " geen aanvragen"),
        );
      }),
    ),
  );
}

function incidentCard(model, incident, withDeployed) {
  const steps = {};
  for (const r of incident.requests) steps[r.step] = (steps[r.step] || 0) + 1;
  // A provider's own deployments are in its capacity panel; the incident's are everyone's.
  // Dispatched is not arrived: what is on its way and what is on scene, apart.
  const enRoute = withDeployed ? Object.entries(incident.en_route || {}) : [];
  const onScene = withDeployed ? Object.entries(incident.on_scene || {}) : [];
  const listed = (entries) =>
    entries.map(([code, n]) => `${number(n)} × ${capabilityName(model, code)}`).join(" · ");
  return h(
    "article",
    { class: `incident${incident.closed ? " closed" : ""}`, "data-id": incident.id },
    h(
      "header",
      {},
      h("h3", {}, incident.title),
      markings(model, incident),
      gripBadge(incident.grip),
      h("span", { class: "phase" }, PHASE[incident.phase] || incident.phase),
      incident.closed ? h("span", { class: "badge" }, "GESLOTEN") : null,
    ),
    h(
      "p",
      { class: "incident-regions" },
      incident.regions.map((code) => `${code} ${regionName(model, code)}`).join(" · "),
    ),
    incident.latest_report
      ? h("p", { class: "report" }, h("span", { class: "label" }, "Sitrap "), incident.latest_report)
      : null,
    h(
      "p",
      { class: "steps" },
      h("span", { class: "label" }, `${incident.requests.length} aanvragen `),
      byStep(steps).map(([step, n]) =>
        h("span", { class: `chip step-${step}` }, `${n} ${STEP[step] || step}`),
      ),
    ),
    onScene.length
      ? h(
          "p",
          { class: "deployed on-scene" },
          h("span", { class: "label" }, "Ter plaatse "),
          listed(onScene),
        )
      : null,
    enRoute.length
      ? h(
          "p",
          { class: "deployed en-route" },
          h("span", { class: "label" }, "Onderweg "),
          listed(enRoute),
        )
      : null,
  );
}

// --- the request board ----------------------------------------------------------------------

const SHARE_FIGURES = [
  ["granted", "toegekend"],
  ["committed", "toegezegd"],
  ["en_route", "onderweg"],
  ["on_scene", "ter plaatse"],
  ["released", "vrijgegeven"],
  ["returned", "retour"],
];

/** Who covers what: per provider's share of a line, what was asked of it and where it is. */
function covers(item) {
  const shares = item.shares || [];
  if (!shares.length) return null;
  return h(
    "div",
    { class: "covers" },
    shares.map((s) => {
      const parts = [`${number(s.asked)} gevraagd`];
      if (s.status === "forwarded") parts.push("beslist nog");
      else if (s.status === "refused") parts.push("geweigerd");
      else {
        for (const [key, label] of SHARE_FIGURES) {
          if (s[key]) parts.push(`${number(s[key])} ${label}`);
        }
        // A partial grant refuses the rest (LOCC may forward that remainder to another).
        if (s.outcome === "partly_granted" && s.asked > s.granted) {
          parts.push(`${number(s.asked - s.granted)} geweigerd`);
        }
      }
      return h(
        "span",
        { class: `share share-${s.status}`, "data-provider": s.to, "data-line": s.line_id },
        h("b", {}, s.to),
        ` ${s.line_id}: ${parts.join(", ")}`,
      );
    }),
  );
}

export function renderBoard(model, items, live) {
  // The exact counts of the whole board (model.js: the wall may hold its first page only).
  const { total, overdue } = model.boardCounts(items);
  const heading = h(
    "h2",
    {},
    "Aanvragenbord ",
    live ? h("span", { class: "count" }, `${total} open`) : null,
    live && overdue ? h("span", { class: "count overdue-count" }, `${overdue} te laat`) : null,
    live && total > items.length
      ? h("span", { class: "count muted" }, `eerste ${items.length} getoond`)
      : null,
  );
  if (!live) {
    $("board").replaceChildren(
      heading,
      h("p", { class: "muted" }, "Het bord toont alleen het actuele beeld (terug naar live)."),
    );
    return;
  }
  const now = model.now();
  const rows = items.map((item) => {
    const flags = [];
    if (item.urgent) flags.push(h("span", { class: "badge urgent" }, "SPOED"));
    if (item.formalisation_outstanding) {
      flags.push(
        h(
          "span",
          { class: `badge ${item.formalisationOverdue ? "late" : "form"}` },
          item.formalisationOverdue ? "FORMULIER TE LAAT" : "FORMULIER ONTBREEKT",
        ),
      );
    }
    // Outstanding duties to inform (domain/duties.py): who informs whom, late past the target.
    for (const duty of item.duties || []) {
      flags.push(
        h(
          "span",
          { class: `badge ${duty.overdue ? "late" : "inform"}`, title: duty.summary || duty.duty },
          `${duty.overdue ? "INFORMEREN TE LAAT" : "INFORMEREN"}: ${actor(duty.by)} → ${actor(duty.to)}`,
        ),
      );
    }
    let due = h("span", { class: "muted" }, "—");
    if (item.overdue) {
      due = [
        h("span", { class: "badge late" }, "TE LAAT"),
        h("div", { class: "late-by" }, `+${duration((now - item.due) / 1000)}`),
      ];
    } else if (item.due !== null) {
      due = `nog ${duration((item.due - now) / 1000)}`;
    }
    return h(
      "tr",
      {
        "data-id": item.id,
        class: item.overdue || item.formalisationOverdue || item.informOverdue ? "overdue" : null,
      },
      h(
        "td",
        { class: "title" },
        h("div", {}, item.title || "(zonder titel)"),
        h(
          "div",
          { class: "sub" },
          markings(model, item),
          h("b", { class: "requester" }, item.requester),
          ` · ${kindName(model, item.kind)}`,
          item.task ? ` · ${TASK[item.task] || item.task} ` : " ",
          flags,
        ),
        covers(item),
      ),
      h("td", { class: `step step-${item.step}` }, STEP[item.step] || item.step),
      h("td", { class: "next" }, actor(item.next_actor)),
      h("td", { class: "num" }, duration(item.secondsInStep)),
      h("td", { class: "due" }, due),
    );
  });
  $("board").replaceChildren(
    heading,
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Bijstandsaanvraag", "Stap", "Aan zet", "In stap", "Norm"].map((t) =>
            h("th", {}, t),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        rows.length ? rows : h("tr", {}, h("td", { colspan: 5 }, "Geen open aanvragen.")),
      ),
    ),
  );
}

// --- capacity and scarcity ------------------------------------------------------------------

export function renderCapacity(model, overview, scarcity, live) {
  const parts = [h("h2", {}, "Capaciteit", stale(model, "capacity"))];
  const own = model.scope.kind === "org";
  const list = own
    ? overview.rows.filter((r) => r.provider === model.scope.org)
    : overview.capabilities;
  const shortages = own ? [] : overview.shortages;
  if (shortages.length) {
    parts.push(
      h(
        "div",
        { class: "shortages" },
        shortages.map((c) =>
          h(
            "div",
            { class: "shortage", "data-capability": c.capability },
            h("span", { class: "badge late" }, `TEKORT ${number(c.shortage)}`),
            ` ${capabilityName(model, c.capability)}: vraag ${number(c.open_demand)}, `,
            `beschikbaar ${number(c.available)}`,
          ),
        ),
      ),
    );
  }
  parts.push(
    h(
      "table",
      { class: "capacity" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          [
            own ? "Uw capaciteit" : "Capaciteit",
            "Beschikbaar",
            "Onderweg",
            "Ter plaatse",
            own ? "Toegezegd" : "Vraag",
          ].map((t) => h("th", {}, t)),
        ),
      ),
      h(
        "tbody",
        {},
        list.map((c) =>
          h(
            "tr",
            { "data-capability": c.capability, class: c.shortage ? "overdue" : null },
            h(
              "td",
              { class: "title" },
              h("div", {}, capabilityName(model, c.capability)),
              own
                ? h(
                    "div",
                    { class: "sub" },
                    Object.keys(c.by_class)
                      .map((k) => CAPACITY_CLASS[k] || k)
                      .join(", "),
                  )
                : null,
              c.for_exercise
                ? h("div", { class: "sub" }, `${number(c.for_exercise)} voor oefening`)
                : null,
            ),
            h(
              "td",
              { class: "num" },
              h("span", { class: "available" }, number(c.available)),
              h("span", { class: "muted" }, ` / ${number(c.exists)}`),
            ),
            h("td", { class: "num en-route" }, number(c.en_route)),
            h("td", { class: "num on-scene" }, number(c.on_scene)),
            h(
              "td",
              { class: "num" },
              number(own ? c.committed + c.reserved + c.made_ready : c.open_demand),
            ),
          ),
        ),
      ),
    ),
  );
  $("capacity").replaceChildren(...parts);
  renderScarcity(model, scarcity, live);
}

function renderScarcity(model, scarcity, live) {
  const parts = [h("h2", {}, "Schaarste-advies", stale(model, "scarcity"))];
  if (!live) {
    parts.push(h("p", { class: "muted" }, "Alleen in het actuele beeld."));
  } else if (!scarcity || !scarcity.capabilities.length) {
    parts.push(h("p", { class: "muted" }, "Geen schaarste: de vraag past binnen het aanbod."));
  } else {
    for (const advice of scarcity.capabilities) {
      parts.push(
        h(
          "div",
          { class: "advice", "data-capability": advice.capability },
          h(
            "h3",
            {},
            capabilityName(model, advice.capability),
            h("span", { class: "badge late" }, `TEKORT ${number(advice.shortage)}`),
          ),
          h(
            "p",
            { class: "muted" },
            `vraag ${number(advice.open_demand)} · beschikbaar ${number(advice.available)}`,
            advice.minister_decided ? " · prioriteit besloten door de minister" : "",
          ),
          h(
            "ol",
            {},
            advice.proposal.map((p) =>
              h(
                "li",
                {},
                h("b", {}, p.requester === "another region" ? "andere regio" : p.requester),
                p.urgent ? h("span", { class: "badge urgent" }, "SPOED") : null,
                p.grip ? gripBadge(p.grip) : null,
                ` ${number(p.wanted)} gevraagd → `,
                h("b", {}, `${number(p.allocated)} toewijzen`),
                p.from?.length ? ` (${p.from.map((f) => `${f.provider} ${f.quantity}`).join(", ")})` : "",
              ),
            ),
          ),
        ),
      );
    }
  }
  $("scarcity").replaceChildren(...parts);
}

// --- the event ticker -----------------------------------------------------------------------

export function renderTicker(model) {
  const items = model.events.slice(0, 6).map((e) => {
    const about = model.requests.get(e.stream_id) || model.incidents.get(e.stream_id);
    const subject = about?.title || "";
    return h(
      "li",
      { "data-position": e.position },
      h("b", {}, time(new Date(e.occurred_at))),
      about ? markings(model, about) : null,
      ` ${e.actor.org} · ${eventLabel(e)}`,
      subject ? h("span", { class: "muted" }, ` · ${subject}`) : null,
    );
  });
  $("ticker").replaceChildren(
    h("span", { class: "label" }, "Laatste meldingen"),
    h("ol", {}, items.length ? items : h("li", { class: "muted" }, "nog geen meldingen via de feed")),
  );
}
