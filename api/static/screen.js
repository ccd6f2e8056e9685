// The coordination-centre screen: sign in with a token, load the read models, then follow the
// live feed. The feed keeps the shown pages current; the REST read models are re-read when the
// feed cannot settle a total by itself (model.js: a row outside the shown pages changes only the
// counts), at most every REREAD_GAP ms, after a reconnect, and every five minutes. The wall
// shows the board's and the picture's first page with the exact counts beside them: what it
// holds does not grow with the store.

import { Feed } from "./feed.js";
import { allPages as readAll } from "./pages.js";
import { History } from "./history.js";
import { channelsFor, Model } from "./model.js";
import {
  h,
  highestMarking,
  renderBoard,
  renderCapacity,
  renderPicture,
  renderTicker,
} from "./render.js";
import { forgetToken, keepToken, startSignIn } from "./signin.js";
import { clock, moment } from "./terms.js";

/** Event positions replayed at sign-in so the ticker starts with the latest reports. */
const TICKER_BACKLOG = 200;
/** The board's and the picture's first page on the wall (more does not fit on it). */
const WALL_PAGE = 50;
/** Re-read the read models at most this often when only counts changed (ms). */
const REREAD_GAP = 5000;
const ROLE = {
  operator: "operator",
  coordinator: "coördinator",
  auditor: "auditor",
  viewer: "kijker",
  admin: "beheerder",
};
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  model: null,
  feed: null,
  history: null,
  historical: null, // what the time slider shows, or null: live
  replay: null, // frames that arrived while the read models were being re-read
  refreshing: false,
  again: false,
  timer: null,
  lastTry: 0,
  restDown: false,
  connection: "connecting",
  attempt: 0,
  timers: [],
};

class HttpError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

async function api(path, token = state.token) {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${token}` },
    cache: "no-store",
  });
  if (!response.ok) throw new HttpError(response.status);
  return response;
}

const json = async (path) => (await api(path)).json();
const allPages = (path, key = "items") => readAll(json, path, key);

// --- signing in and out ---------------------------------------------------------------------

async function signIn(token) {
  const me = await (await api("/v1/whoami", token)).json();
  const reference = await (await api("/v1/reference", token)).json();
  keepToken(token);
  state.token = token;
  const model = new Model(me, reference);
  state.model = model;
  const org = model.ref.orgs.get(me.org);
  $("who").replaceChildren(
    `${me.org} · ${ROLE[me.role] || me.role} `,
    h("span", { class: "muted" }, org ? org.name : ""),
  );
  $("signin").hidden = true;
  $("screen").hidden = false;
  state.feed = new Feed({
    token,
    channels: channelsFor,
    onFrame,
    onState,
    backlog: TICKER_BACKLOG,
  });
  state.feed.start();
  // The read models are read once the feed is subscribed (so nothing falls in between), or
  // without it when it does not come up.
  state.timers.push(setTimeout(() => model.loaded || refresh(), 3000));
  state.timers.push(setInterval(tick, 1000));
  // A region's or a provider's feed carries only its own rows: the national capacity
  // overview and scarcity advice are re-read every minute; the nation's every five, as a check.
  const every = model.scope.kind === "national" ? 5 * 60000 : 60000;
  state.timers.push(setInterval(() => schedule(0), every));
  if (me.role === "auditor") {
    state.history = new History({
      api,
      now: () => model.now(),
      onView: (view) => {
        state.historical = view;
        paint();
      },
    });
    state.history.setup($("history")).catch((error) => console.warn("time slider:", error));
  }
  paint();
}

function signOut(message = "") {
  if (state.feed) state.feed.stop();
  if (state.history) state.history.stop();
  for (const timer of state.timers) clearInterval(timer);
  clearTimeout(state.timer);
  forgetToken();
  Object.assign(state, {
    token: null,
    model: null,
    feed: null,
    history: null,
    historical: null,
    replay: null,
    timer: null,
    timers: [],
  });
  clearPanels();
  $("who").replaceChildren();
  $("connection").replaceChildren();
  $("connection").className = "";
  state.connection = "connecting";
  state.restDown = false;
  $("screen").hidden = true;
  $("banner").hidden = true;
  $("history").hidden = true;
  $("history").replaceChildren();
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  $("token").value = "";
  $("token").focus();
}

// --- the feed -------------------------------------------------------------------------------

function onFrame(frame) {
  const model = state.model;
  if (!model) return;
  if (state.replay) state.replay.push(frame);
  model.applyFrame(frame);
  if (model.stale.size || model.scope.kind !== "national") {
    schedule(Math.max(1500, state.lastTry + REREAD_GAP - Date.now()));
  }
  paint();
}

function onState(connection, detail = {}) {
  const wasLive = state.connection === "live";
  state.connection = connection;
  state.attempt = detail.attempt || 0;
  if (connection === "refused") {
    signOut("De token is ongeldig, verlopen of ingetrokken.");
    return;
  }
  if (connection === "live" && !wasLive) schedule(0); // first load, or reconcile after a drop
  paint();
}

// --- the read models ------------------------------------------------------------------------

function schedule(delay) {
  if (state.timer !== null || !state.model) return;
  state.timer = setTimeout(() => {
    state.timer = null;
    refresh();
  }, delay);
}

async function refresh() {
  const model = state.model;
  if (!model) return;
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  state.lastTry = Date.now();
  state.replay = [];
  const at = state.feed ? state.feed.head : 0;
  const query = at ? `?min_position=${at}&wait=5` : "";
  try {
    const [picture, board, overview, scarcity, requests] = await Promise.all([
      json(`/v1/picture${query}${query ? "&" : "?"}limit=${WALL_PAGE}`),
      json(`/v1/board${query}${query ? "&" : "?"}limit=${WALL_PAGE}`),
      json(`/v1/capacity-overview${query}`),
      json(`/v1/scarcity${query}`),
      // Once, for a provider: which requests were forwarded to it or booked with it (the
      // read models do not say; the feed's rows do from then on).
      model.scope.kind === "org" && !model.loaded
        ? allPages("/v1/requests").then((page) => page.items)
        : null,
    ]);
    if (model !== state.model) return; // signed out meanwhile
    if (![picture, board, overview, scarcity].every((a) => a.reached)) {
      throw new Error("the read models are behind the feed");
    }
    model.page = WALL_PAGE;
    model.load({ picture, board, overview, scarcity, requests });
    for (const frame of state.replay) model.applyFrame(frame);
    state.restDown = false;
  } catch (error) {
    state.restDown = true;
    if (error.status === 401) {
      signOut("De token is ongeldig, verlopen of ingetrokken.");
      return;
    }
  } finally {
    state.replay = null;
    state.refreshing = false;
    if (state.again) {
      state.again = false;
      schedule(1000);
    }
  }
  paint();
}

function tick() {
  const model = state.model;
  if (!model) return;
  // Without the read models, or with a total the feed could not settle: try again now and then.
  if ((!model.loaded || model.stale.size) && Date.now() - state.lastTry > REREAD_GAP) schedule(0);
  paint();
}

// --- drawing --------------------------------------------------------------------------------

let painting = false;

function paint() {
  if (painting) return;
  painting = true;
  setTimeout(() => {
    painting = false;
    draw();
  }, 0);
}

const CONNECTION = {
  connecting: ["connecting", "◌ VERBINDEN…"],
  live: ["live", "● LIVE"],
  down: ["down", "✕ VERBINDING VERBROKEN — opnieuw verbinden"],
};

function draw() {
  const model = state.model;
  if (!model) return;
  $("clock").textContent = clock(new Date(model.now()));
  const [kind, text] = CONNECTION[state.connection] || CONNECTION.connecting;
  const connection = $("connection");
  connection.className = kind;
  connection.textContent =
    text +
    (kind === "down" && state.attempt > 1 ? ` (poging ${state.attempt})` : "") +
    (kind === "live" && state.restDown ? " · API onbereikbaar" : "");
  const view = state.historical;
  const banner = $("banner");
  banner.hidden = !view;
  if (view) {
    banner.textContent =
      `HISTORISCH — het beeld zoals op ${moment(view.at)} ` +
      (view.axis === "recorded"
        ? "(geregistreerd: wat mlob toen wist)"
        : "(plaatsgevonden: wat toen gebeurd was, zoals nu bekend)");
  }
  document.body.classList.toggle("historical", Boolean(view));
  if (!model.loaded && !view) {
    clearPanels("Het beeld wordt geladen…");
    return;
  }
  renderPicture(
    model,
    view
      ? view.picture
      : {
          incidents: model.pictureIncidents(),
          summary: model.summary,
          total_incidents: model.totalIncidents,
        },
  );
  renderBoard(model, model.loaded ? model.board() : [], !view);
  renderCapacity(model, view ? view.overview : model.overview, model.scarcity, !view);
  renderTicker(model);
  markPage(model);
}

/** The highest classification on the page, in a banner at its top and bottom, as on paper. */
function markPage(model) {
  const top = highestMarking(model, $("screen"));
  for (const id of ["marking-top", "marking-bottom"]) {
    const banner = $(id);
    banner.hidden = !top;
    banner.className = top ? `marking-banner marking-${top.code}` : "marking-banner";
    banner.textContent = top ? top.marking.toUpperCase() : "";
  }
}

function clearPanels(message = "") {
  for (const id of ["picture", "board", "capacity", "scarcity", "ticker"]) {
    $(id).replaceChildren();
  }
  $("picture").textContent = message;
}

// --- start ----------------------------------------------------------------------------------

startSignIn(signIn, signOut);
