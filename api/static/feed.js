// The live feed (/v1/feed): sign in with the token, subscribe, and after a drop reconnect with
// backoff and resume from the last frame's position and change: nothing missed, nothing twice.

const BACKOFF = [500, 1000, 2000, 4000, 8000, 15000]; // ms, then 15 s each time
const SILENCE = 45000; // no message for this long (heartbeats come every 15-20 s): reconnect

export class Feed {
  /**
   * @param {object} options
   * @param {string} options.token
   * @param {(scope: object) => string[]} options.channels
   * @param {(frame: object) => void} options.onFrame
   * @param {(state: string, detail?: object) => void} options.onState
   *   "connecting" | "live" | "down" | "refused"
   * @param {number} [options.backlog]
   */
  constructor({ token, channels, onFrame, onState, backlog = 0 }) {
    this.backlog = backlog; // positions of history to replay on the first subscription
    this.token = token;
    this.channels = channels;
    this.onFrame = onFrame;
    this.onState = onState;
    this.position = null; // up to where we are complete (the last frame's)
    this.change = null;
    this.head = 0; // the newest position the server has told us of: read models must reach it
    this.scope = null;
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.timer = null;
    this.watchdog = null;
    this.lastMessage = 0;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/v1/feed`;
  }

  start() {
    this.stopped = false;
    this.connect();
    this.watchdog = setInterval(() => this.check(), 5000);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
  }

  connect() {
    if (this.stopped) return;
    this.onState(this.position === null ? "connecting" : "down", { attempt: this.attempt });
    const socket = new WebSocket(this.url());
    this.socket = socket;
    this.lastMessage = Date.now();
    socket.onopen = () => socket.send(JSON.stringify({ token: this.token }));
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      this.lastMessage = Date.now();
      this.handle(socket, JSON.parse(message.data));
    };
    socket.onclose = (event) => {
      if (socket !== this.socket || this.stopped) return;
      this.socket = null;
      if (event.code === 1008) {
        this.stopped = true;
        this.onState("refused");
        return;
      }
      this.retry();
    };
  }

  retry() {
    const delay = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    this.attempt += 1;
    this.onState("down", { attempt: this.attempt, retryIn: delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay * (1 + Math.random() * 0.2));
  }

  /** A connection that went silent (a dead peer) is dropped and made again. */
  check() {
    if (this.socket && Date.now() - this.lastMessage > SILENCE) {
      const socket = this.socket;
      this.socket = null;
      socket.close();
      this.retry();
    }
  }

  handle(socket, message) {
    switch (message.type) {
      case "welcome": {
        this.scope = message.scope;
        this.head = Math.max(this.head, message.position);
        const subscribe = { subscribe: this.channels(message.scope), exercise: false };
        if (this.position !== null) {
          subscribe.after = this.position;
          subscribe.after_change = this.change;
        } else if (this.backlog) {
          // The first time: the last events before now too (for the ticker), not the rows.
          subscribe.after = Math.max(0, message.position - this.backlog);
        }
        socket.send(JSON.stringify(subscribe));
        break;
      }
      case "subscribed":
        if (this.position === null) {
          this.position = message.position;
          this.change = message.change;
        }
        this.attempt = 0;
        this.onState("live", { resumed: message.position });
        break;
      case "frame":
        this.position = message.position;
        this.change = message.change;
        this.head = Math.max(this.head, message.position);
        this.onFrame(message);
        break;
      case "resync":
        // We fell behind; the server closes this connection: resume from what we surely have.
        this.position = message.position;
        this.change = message.change;
        break;
      case "error":
        if (message.code === "invalid_token") {
          this.stopped = true;
          this.onState("refused");
        } else {
          console.warn("feed:", message);
        }
        break;
      default: // heartbeat, pong, bye: nothing to do
    }
  }
}
