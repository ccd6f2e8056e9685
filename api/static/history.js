// The auditor's time slider: the picture and the capacity overview as they were at a moment,
// on the recorded axis (what mlob knew then) or the occurred axis (what had happened by then,
// as known now). From the first recorded event to now, by the minute.

import { h } from "./render.js";
import { moment } from "./terms.js";

const MINUTE = 60000;
/** At most this many pages of the history are asked for its first event. */
const FIRST_PAGES = 20;

export class History {
  /**
   * @param {object} options
   * @param {(path: string) => Promise<Response>} options.api
   * @param {() => number} options.now  the server's clock, ms
   * @param {(view: object | null) => void} options.onView  null: back to live
   */
  constructor({ api, now, onView }) {
    this.api = api;
    this.now = now;
    this.onView = onView;
    this.start = null;
    this.timer = null;
    this.clock = null;
    this.loading = 0;
  }

  async setup(container) {
    const first = await this.firstEvent();
    if (!first) return false;
    this.start =
      Math.floor(Math.min(Date.parse(first.occurred_at), Date.parse(first.recorded_at)) / MINUTE) *
      MINUTE;
    this.slider = h("input", {
      type: "range",
      id: "as-of",
      min: 0,
      step: 1,
      "aria-label": "moment in de tijd",
      "data-start": this.start,
    });
    this.label = h("output", { for: "as-of", id: "as-of-label" });
    this.axes = ["recorded", "occurred"].map((axis) =>
      h("input", {
        type: "radio",
        name: "axis",
        value: axis,
        id: `axis-${axis}`,
        checked: axis === "recorded",
      }),
    );
    this.live = h("button", { type: "button", id: "to-live" }, "Live");
    container.replaceChildren(
      h("span", { class: "label" }, "Tijdlijn"),
      this.slider,
      this.label,
      h(
        "fieldset",
        {},
        h("legend", {}, "as"),
        this.axes[0],
        h("label", { for: "axis-recorded" }, "geregistreerd"),
        this.axes[1],
        h("label", { for: "axis-occurred" }, "plaatsgevonden"),
      ),
      this.live,
    );
    container.hidden = false;
    this.extend(true);
    this.slider.addEventListener("input", () => {
      this.showLabel();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load(), 250);
    });
    this.slider.addEventListener("change", () => this.load());
    for (const radio of this.axes) radio.addEventListener("change", () => this.load());
    this.live.addEventListener("click", () => {
      this.slider.value = this.slider.max;
      this.load();
    });
    this.clock = setInterval(() => this.extend(false), MINUTE);
    return true;
  }

  /** The first recorded event the reader may see: the history's pages each look at a
   * stretch of the log, so one may be empty and have a next; a few are followed. */
  async firstEvent() {
    let path = "/v1/history?limit=1";
    for (let pages = 0; pages < FIRST_PAGES; pages++) {
      const page = await (await this.api(path)).json();
      if (page.items?.length) return page.items[0];
      if (!page.next) return null;
      path = `/v1/history?limit=1&cursor=${encodeURIComponent(page.next)}`;
    }
    return null;
  }

  stop() {
    clearInterval(this.clock);
    clearTimeout(this.timer);
    this.loading += 1; // an answer still on its way is dropped
  }

  /** Keep the slider's end at now (and at now when it was there). */
  extend(first) {
    const atEnd = first || Number(this.slider.value) >= Number(this.slider.max);
    this.slider.max = Math.ceil((this.now() - this.start) / MINUTE);
    if (atEnd) this.slider.value = this.slider.max;
    this.showLabel();
  }

  isLive() {
    return Number(this.slider.value) >= Number(this.slider.max);
  }

  axis() {
    return this.axes.find((r) => r.checked).value;
  }

  moment() {
    return new Date(this.start + Number(this.slider.value) * MINUTE);
  }

  showLabel() {
    this.label.textContent = this.isLive() ? "nu (live)" : moment(this.moment());
  }

  /** The picture as of a moment with every page of its incidents (one page of 500: a
   * further page replays the moment again, so it is asked only when there is one). */
  async wholePicture(query) {
    const first = await (await this.api(`/v1/picture${query}&limit=500`)).json();
    for (let cursor = first.next; cursor; ) {
      const more = `&limit=500&cursor=${encodeURIComponent(cursor)}`;
      const page = await (await this.api(`/v1/picture${query}${more}`)).json();
      first.incidents.push(...page.incidents);
      cursor = page.next;
    }
    return first;
  }

  async load() {
    clearTimeout(this.timer);
    this.showLabel();
    if (this.isLive()) {
      this.onView(null);
      return;
    }
    const ticket = ++this.loading;
    const at = this.moment();
    const axis = this.axis();
    const query = `?as_of=${encodeURIComponent(at.toISOString())}&axis=${axis}`;
    let picture, overview;
    try {
      [picture, overview] = await Promise.all([
        this.wholePicture(query),
        this.api(`/v1/capacity-overview${query}`).then((r) => r.json()),
      ]);
    } catch (error) {
      if (ticket === this.loading) this.label.textContent = "niet op te halen — opnieuw schuiven";
      console.warn("time slider:", error);
      return;
    }
    if (ticket !== this.loading || this.isLive()) return; // a later choice was made meanwhile
    this.onView({ at, axis, picture, overview });
  }
}
