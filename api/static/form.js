// Forms generated from an event type's JSON Schema (GET /v1/event-types): never written per
// type, so a new step appears on the desk without form code. Each field shows its Dutch
// `title` as label and `description` as help; `x-mlob-choices` names the reference list its
// values are drawn from (desk.js resolves the lists for the signed-in caller). What a person
// must never type — a new id, a booking's capacity, the version to void, a line's number — is
// filled in here from the request's detail; no field takes JSON.

import { h } from "./render.js";

/** Choice lists the form fills in itself (no field is shown for them). */
const HIDDEN = new Set(["new_id", "booking_capacity", "latest_version", "line_number"]);

let serial = 0;

function resolve(schema, root) {
  if (!schema) return {};
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop();
    const { $ref, ...rest } = schema;
    return { ...resolve(root.$defs[name], root), ...rest };
  }
  if (schema.anyOf) {
    const others = schema.anyOf.filter((s) => s.type !== "null");
    if (others.length === 1) {
      const { anyOf, ...rest } = schema;
      return { ...resolve(others[0], root), ...rest, nullable: true };
    }
  }
  return schema;
}

const onePerLine = (schema) => `${schema.description || ""} (één per regel)`;

function fieldId() {
  serial += 1;
  return `f${serial}`;
}

/** A labelled field: label, the control, help text, and a slot for a refusal's reason. */
function wrap(pointer, id, schema, control, required) {
  return h(
    "div",
    { class: "field", "data-pointer": pointer },
    // required: marked by the style (label.required), the control says so to assistive tech
    h("label", { for: id, class: required ? "required" : null }, schema.title || pointer),
    control,
    schema.description ? h("small", { class: "help" }, schema.description) : null,
  );
}

/**
 * The generated form.
 * @param {object} options
 * @param {object} options.eventType   an item of GET /v1/event-types
 * @param {(name: string, at: object) => {value: string, label: string}[]} options.choices
 * @param {object} options.context     {detail?: request detail, ...}
 */
export class GeneratedForm {
  constructor({ eventType, choices, context, envelope = [] }) {
    this.type = eventType;
    this.root = eventType.schema;
    this.choices = choices;
    this.context = context;
    this.updaters = [];
    this.ids = new Map(); // path -> a new id, made once per form
    this.messageId = crypto.randomUUID(); // once per form: a retry sends the same
    this.subject = null;
    this.body = this.node(this.root, "/data", true, {});
    this.envelope = envelope.map((part) => part(this));
    this.element = h(
      "div",
      { class: "generated" },
      ...this.envelope.map((part) => part.element),
      this.body.element,
    );
    this.element.addEventListener("change", () => this.refresh());
    this.element.addEventListener("input", () => this.refresh());
    this.refresh();
  }

  /** Re-draw every choice list whose options depend on other fields. */
  refresh() {
    for (const update of this.updaters) update();
  }

  value() {
    return this.body.read();
  }

  /** A newly made id for ``path``: the same on every read (and retry) of this form. */
  newId(path) {
    if (!this.ids.has(path)) this.ids.set(path, crypto.randomUUID());
    return this.ids.get(path);
  }

  node(raw, pointer, required, at) {
    const schema = resolve(raw, this.root);
    const list = schema["x-mlob-choices"];
    if (list && HIDDEN.has(list)) return this.hidden(list, pointer, at);
    if (schema.type === "object" && schema.properties) return this.object(schema, pointer, at);
    if (schema.type === "object" && schema.propertyNames) return this.dict(schema, pointer);
    if (schema.type === "array") return this.array(schema, pointer, required, at);
    if (list || schema.enum) return this.select(schema, pointer, required, at, list);
    if (schema.type === "boolean") return this.checkbox(schema, pointer);
    return this.input(schema, pointer, required);
  }

  hidden(list, pointer, at) {
    const read = () => {
      if (list === "new_id") return this.newId(pointer);
      if (list === "latest_version") return this.context.detail?.version;
      if (list === "line_number") return `L${(at.index ?? 0) + 1}`;
      // booking_capacity: the capacity of the booking chosen next to it
      const chosen = at.read ? at.read("booking_id") : undefined;
      const booking = (this.context.detail?.bookings || []).find((b) => b.booking_id === chosen);
      return booking ? booking.capacity_id : undefined;
    };
    return { element: null, read, hidden: true };
  }

  object(schema, pointer, at) {
    const required = new Set(schema.required || []);
    const children = {};
    const self = { ...at, read: (name) => children[name]?.read() };
    for (const [name, sub] of Object.entries(schema.properties)) {
      children[name] = this.node(sub, `${pointer}/${name}`, required.has(name), self);
    }
    const parts = Object.values(children)
      .map((c) => c.element)
      .filter(Boolean);
    const element =
      pointer === "/data"
        ? h("div", { class: "fields" }, ...parts)
        : h(
            "fieldset",
            { "data-pointer": pointer },
            // a row of a list has no legend of its own (its list has)
            schema.title && at.index === undefined ? h("legend", {}, schema.title) : null,
            ...parts,
          );
    return {
      element,
      read: () => {
        const out = {};
        for (const [name, child] of Object.entries(children)) {
          const value = child.read();
          if (value !== undefined) out[name] = value;
        }
        return out;
      },
    };
  }

  /** A map from a fixed set of keys (an enum) to text: one text area per key, empty left out. */
  dict(schema, pointer) {
    const keys = resolve(schema.propertyNames, this.root).enum || [];
    const areas = keys.map((key) => {
      const id = fieldId();
      const area = h("textarea", { id, name: `${pointer}/${key}`, rows: 2 });
      const label = this.choices("terms", {}).find((t) => t.value === key)?.label || key;
      return {
        key,
        area,
        element: wrap(`${pointer}/${key}`, id, { title: label }, area, false),
      };
    });
    return {
      element: h(
        "fieldset",
        { "data-pointer": pointer },
        h("legend", {}, schema.title || ""),
        schema.description ? h("small", { class: "help" }, schema.description) : null,
        ...areas.map((a) => a.element),
      ),
      read: () => {
        const out = {};
        for (const a of areas) if (a.area.value.trim()) out[a.key] = a.area.value.trim();
        return Object.keys(out).length ? out : undefined;
      },
    };
  }

  array(schema, pointer, required, at) {
    const items = resolve(schema.items, this.root);
    const list = items["x-mlob-choices"] || schema["x-mlob-choices"];
    if (items.type === "object") return this.repeated(schema, pointer, required, at);
    if (list || items.enum) {
      // Several of a choice list: a checkbox per option.
      const id = fieldId();
      const box = h("div", { class: "checks", id, role: "group" });
      let checked = new Set();
      const update = () => {
        checked = new Set(
          [...box.querySelectorAll("input:checked")].map((i) => i.value).concat([...checked]),
        );
        const options = list
          ? this.choices(list, at)
          : items.enum.map((v) => ({ value: v, label: v }));
        const current = [...box.querySelectorAll("input")].map((i) => i.value).join("|");
        if (current === options.map((o) => o.value).join("|")) return;
        box.replaceChildren(
          ...options.map((o) =>
            h(
              "label",
              { class: "check" },
              h("input", {
                type: "checkbox",
                value: o.value,
                checked: checked.has(o.value),
                "data-label": o.label,
              }),
              ` ${o.label}`,
            ),
          ),
        );
      };
      box.addEventListener("change", () => {
        checked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
      });
      this.updaters.push(update);
      return {
        element: wrap(pointer, id, schema, box, required),
        read: () => {
          const values = [...box.querySelectorAll("input:checked")].map((i) => i.value);
          return values.length || required ? values : undefined;
        },
      };
    }
    // Several texts: one a line.
    const id = fieldId();
    const area = h("textarea", { id, rows: 3, name: pointer });
    return {
      element: wrap(pointer, id, { ...schema, description: onePerLine(schema) }, area, required),
      read: () => {
        const values = area.value
          .split("\n")
          .map((v) => v.trim())
          .filter(Boolean);
        return values.length || required ? values : undefined;
      },
    };
  }

  repeated(schema, pointer, required, at) {
    const rows = [];
    const holder = h("div", { class: "rows" });
    const add = h("button", { type: "button", class: "add" }, `+ ${schema.title || "toevoegen"}`);
    const renumber = () => {
      rows.forEach((row, index) => {
        row.at.index = index;
      });
    };
    const addRow = () => {
      const index = rows.length;
      const rowAt = { ...at, index };
      const item = this.node(schema.items, `${pointer}/${index}`, true, rowAt);
      const remove = h("button", { type: "button", class: "remove" }, "verwijderen");
      const element = h("div", { class: "row" }, item.element, remove);
      const row = { item, element, at: rowAt };
      remove.addEventListener("click", () => {
        rows.splice(rows.indexOf(row), 1);
        element.remove();
        renumber();
      });
      rows.push(row);
      holder.append(element);
      this.refresh();
      return element;
    };
    add.addEventListener("click", () => {
      const element = addRow();
      element.querySelector("input, select, textarea")?.focus();
    });
    for (let i = 0; i < (schema.minItems || 0); i += 1) addRow();
    return {
      element: h(
        "fieldset",
        { class: "repeated", "data-pointer": pointer },
        h("legend", {}, schema.title || ""),
        schema.description ? h("small", { class: "help" }, schema.description) : null,
        holder,
        add,
      ),
      read: () => {
        const values = rows.map((r) => r.item.read());
        return values.length || required ? values : undefined;
      },
    };
  }

  select(schema, pointer, required, at, list) {
    const id = fieldId();
    const select = h("select", { id, name: pointer, required: required || null });
    const update = () => {
      const options = list
        ? this.choices(list, at)
        : schema.enum.map((v) => ({
            value: v,
            label: this.choices("terms", {}).find((t) => t.value === v)?.label || v,
          }));
      const keep = select.value;
      const signature = options.map((o) => `${o.value}=${o.label}`).join("|");
      if (select.dataset.signature === signature) return;
      select.dataset.signature = signature;
      const blank = !required || schema.default === undefined;
      select.replaceChildren(
        ...(blank ? [h("option", { value: "" }, required ? "— kies —" : "—")] : []),
        ...options.map((o) => h("option", { value: o.value }, o.label)),
      );
      const fallback = schema.default ?? (options.length === 1 && required ? options[0].value : "");
      select.value = options.some((o) => o.value === keep) ? keep : fallback ?? "";
    };
    this.updaters.push(update);
    return {
      element: wrap(pointer, id, schema, select, required),
      read: () => {
        if (select.value === "") return schema.nullable && !required ? undefined : undefined;
        return schema.type === "integer" ? Number(select.value) : select.value;
      },
    };
  }

  checkbox(schema, pointer) {
    const id = fieldId();
    const checked = schema.default === true;
    const box = h("input", { id, type: "checkbox", name: pointer, checked });
    return {
      element: h(
        "div",
        { class: "field check", "data-pointer": pointer },
        box,
        h("label", { for: id }, ` ${schema.title || pointer}`),
        schema.description ? h("small", { class: "help" }, schema.description) : null,
      ),
      read: () => box.checked,
    };
  }

  input(schema, pointer, required) {
    const id = fieldId();
    let control;
    let read;
    if (schema.type === "integer") {
      const floor = (schema.exclusiveMinimum ?? 0) + 1;
      control = h("input", {
        id,
        name: pointer,
        type: "number",
        step: 1,
        min: schema.minimum ?? (schema.exclusiveMinimum === undefined ? null : floor),
        max: schema.maximum,
        required: required || null,
        value: schema.default,
      });
      read = () => (control.value === "" ? undefined : Number(control.value));
    } else if (schema.format === "date-time") {
      control = h("input", {
        id,
        name: pointer,
        type: "datetime-local",
        required: required || null,
      });
      read = () => (control.value ? new Date(control.value).toISOString() : undefined);
    } else {
      const long = (schema.maxLength || 0) > 200;
      control = long
        ? h("textarea", { id, name: pointer, rows: 2, required: required || null })
        : h("input", { id, name: pointer, type: "text", required: required || null });
      if (schema.maxLength) control.setAttribute("maxlength", schema.maxLength);
      read = () => {
        const value = control.value.trim();
        return value === "" && !required ? undefined : value;
      };
    }
    return { element: wrap(pointer, id, schema, control, required), read };
  }
}
