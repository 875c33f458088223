// The club page: one GraphQL query for what it shows, then the memberJoined and
// meetingUpdates subscriptions over graphql-ws (the vendored browser build, window.graphqlWs)
// for its live feed. After a cut, each subscription resumes from the cursor of the last event
// it showed (`after`), and an event is shown once whatever the server sends twice.
// Without a token it reads as an anonymous visitor; when the service answers 401
// UNAUTHENTICATED, it asks for a token, which it keeps in this browser's local storage.

const TOKEN_KEY = "clubjustice.token"; // shared with GraphiQL (ide.js)
const ENDPOINT = new URL("/graphql", location.href);
const WS_ENDPOINT = new URL(ENDPOINT);
WS_ENDPOINT.protocol = ENDPOINT.protocol === "https:" ? "wss:" : "ws:";

const CLUB = `
query ClubPage($now: DateTime!) {
  activityCursor
  viewer { role organization { name } }
  members: organizations(first: 100, filter: {status: MEMBER}) {
    totalCount
    edges { node { id name kind joinedAt country { code name region } sponsor { name } } }
  }
  guests: organizations(first: 100, filter: {status: GUEST}) {
    totalCount
    edges { node { id name kind country { code name region } } }
  }
  upcoming: events(first: 50, filter: {startsAfter: $now}) { edges { node { ...Meeting } } }
  past: events(first: 50, filter: {startsBefore: $now}) { edges { node { ...Meeting } } }
  workingGroups {
    id name focusArea description
    lead { name }
    members { name }
    actionPlan { title status dueDate owner { name } }
  }
}
fragment Meeting on Event {
  id title kind status startsAt endsAt
  host { name country { code } }
  workingGroup { name }
}`;

const SUBSCRIPTIONS = {
  member: `subscription ClubMembers($after: String) {
    memberJoined(after: $after) {
      cursor joinedAt
      organization { id name kind joinedAt country { code name region } sponsor { name } }
      sponsor { name }
    }
  }`,
  meeting: `subscription ClubMeetings($after: String) {
    meetingUpdates(after: $after) {
      cursor kind occurredAt
      event { id title kind status startsAt endsAt host { name country { code } } workingGroup { name } }
    }
  }`,
};

const $ = (id) => document.getElementById(id);
const state = { members: new Map(), guests: new Map(), meetings: new Map(), groups: [] };

function token() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const when = (iso, format = dateTime) =>
  el("time", { datetime: iso }, `${format.format(new Date(iso))}${format === dateTime ? " UTC" : ""}`);
const words = (value) => value.toLowerCase().replaceAll("_", " ");

// ---- the initial data: one request ----

class Unauthenticated extends Error {}

async function loadClub() {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: CLUB, variables: { now: new Date().toISOString() } }),
  });
  const body = await response.json().catch(() => ({}));
  const codes = (body.errors || []).map((e) => e.extensions && e.extensions.code);
  if (response.status === 401 || codes.includes("UNAUTHENTICATED")) {
    throw new Unauthenticated((body.errors && body.errors[0] && body.errors[0].message) || "");
  }
  if (!body.data) {
    throw new Error((body.errors || []).map((e) => e.message).join("; ") || `HTTP ${response.status}`);
  }
  return body.data;
}

function takeIn(data) {
  for (const { node } of data.members.edges) state.members.set(node.id, node);
  for (const { node } of data.guests.edges) state.guests.set(node.id, node);
  for (const { node } of [...data.upcoming.edges, ...data.past.edges]) state.meetings.set(node.id, node);
  state.groups = data.workingGroups;
  firstCursor = data.activityCursor;
  const viewer = data.viewer;
  $("viewer-role").textContent =
    `${words(viewer.role)}${viewer.organization ? ` (${viewer.organization.name})` : ""}`;
}

// ---- rendering ----

function byName(a, b) {
  return a.name.localeCompare(b.name);
}

function renderMembers() {
  const members = [...state.members.values()].sort(byName);
  const guests = [...state.guests.values()].sort(byName);
  $("member-count").textContent = `(${members.length})`;
  $("guest-count").textContent = `(${guests.length})`;

  // Countries with members or guests, by region, then name.
  const countries = new Map();
  for (const [list, key] of [[members, "members"], [guests, "guests"]]) {
    for (const organization of list) {
      const country = organization.country;
      if (!countries.has(country.code)) countries.set(country.code, { ...country, members: [], guests: [] });
      countries.get(country.code)[key].push(organization);
    }
  }
  const ordered = [...countries.values()].sort(
    (a, b) => a.region.localeCompare(b.region) || a.name.localeCompare(b.name),
  );
  $("country-grid").replaceChildren(
    ...ordered.map((country) =>
      el(
        "li",
        { "data-country": country.code },
        el("span", { class: "code", "aria-hidden": "true" }, country.code),
        el("span", { class: "name" }, country.name),
        el(
          "span",
          { class: "tally" },
          `${country.members.length} member${country.members.length === 1 ? "" : "s"}`,
          country.guests.length ? `, ${country.guests.length} guest${country.guests.length === 1 ? "" : "s"}` : "",
          ` · ${country.region}`,
        ),
      ),
    ),
  );

  const withMembers = ordered.filter((country) => country.members.length);
  $("member-list").replaceChildren(
    el(
      "ul",
      {},
      withMembers.map((country) =>
        el(
          "li",
          {},
          el("strong", {}, country.name),
          el(
            "ul",
            {},
            country.members.map((member) =>
              el(
                "li",
                { "data-member": member.id },
                el("span", { class: "org" }, member.name),
                " ",
                el("span", { class: "tag" }, words(member.kind)),
                el(
                  "span",
                  { class: "meta" },
                  member.joinedAt ? [" · joined ", when(member.joinedAt, dateOnly)] : "",
                  member.sponsor ? ` · invited by ${member.sponsor.name}` : " · founding member",
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );

  $("guest-list").replaceChildren(
    ...guests.map((guest) =>
      el(
        "li",
        { "data-guest": guest.id },
        el("span", { class: "org" }, guest.name),
        el("div", { class: "meta" }, `${words(guest.kind)} · ${guest.country.name}`),
      ),
    ),
  );
}

function meetingItem(meeting) {
  return el(
    "li",
    { "data-meeting": meeting.id, class: `status-${meeting.status}` },
    el("strong", { class: "title" }, meeting.title),
    el(
      "div",
      { class: "meta" },
      when(meeting.startsAt),
      ` · hosted by ${meeting.host.name}`,
      meeting.workingGroup ? ` · ${meeting.workingGroup.name}` : "",
    ),
    el("span", { class: "tag" }, words(meeting.kind)),
    " ",
    el("span", { class: "tag" }, words(meeting.status)),
  );
}

function renderMeetings() {
  const now = Date.now();
  const meetings = [...state.meetings.values()];
  const upcoming = meetings
    .filter((m) => Date.parse(m.startsAt) >= now)
    .sort((a, b) => Date.parse(a.startsAt) - Date.parse(b.startsAt));
  const past = meetings
    .filter((m) => Date.parse(m.startsAt) < now)
    .sort((a, b) => Date.parse(b.startsAt) - Date.parse(a.startsAt));
  $("upcoming").replaceChildren(...(upcoming.length ? upcoming.map(meetingItem) : [el("li", {}, "None scheduled.")]));
  $("past").replaceChildren(...(past.length ? past.map(meetingItem) : [el("li", {}, "None yet.")]));
}

function renderGroups() {
  $("group-list").replaceChildren(
    ...state.groups.map((group) =>
      el(
        "article",
        { class: "group", "data-group": group.id },
        el("h3", {}, group.name),
        el(
          "p",
          { class: "meta" },
          words(group.focusArea),
          group.lead ? ` · led by ${group.lead.name}` : "",
          ` · ${group.members.length} member${group.members.length === 1 ? "" : "s"}`,
        ),
        group.description ? el("p", {}, group.description) : null,
        el("h4", {}, "Action plan"),
        group.actionPlan.length
          ? el(
              "ul",
              { class: "plan" },
              group.actionPlan.map((item) =>
                el(
                  "li",
                  {},
                  `${item.title} `,
                  el("span", { class: "tag" }, words(item.status)),
                  el(
                    "span",
                    { class: "meta" },
                    item.dueDate ? [" · due ", when(item.dueDate, dateOnly)] : "",
                    item.owner ? ` · ${item.owner.name}` : "",
                  ),
                ),
              ),
            )
          : el("p", { class: "help" }, "No items yet."),
      ),
    ),
  );
}

// ---- the live feed ----

const seen = new Set(); // "member:<cursor>", "meeting:<cursor>": each event shown once
// Where each subscription resumes: the cursor of the last event it showed, or, before its
// first, the activity log's point where the initial data stands (`activityCursor`, read in
// the same request): nothing between the data and the first event is missed or repeated.
const lastCursor = { member: null, meeting: null };
let firstCursor = null;

function describe(kind, event) {
  if (kind === "member") {
    const organization = event.organization;
    const sponsor = event.sponsor;
    return [
      el("strong", {}, organization.name),
      ` (${organization.country.name}) joined the club`,
      sponsor ? `, invited by ${sponsor.name}` : "",
      ".",
      when(event.joinedAt),
    ];
  }
  const meeting = event.event;
  const verb = {
    SCHEDULED: "scheduled",
    UPDATED: "updated",
    CANCELLED: "cancelled",
    COMPLETED: "completed",
    ATTENDANCE_RECORDED: "attendance recorded",
  }[event.kind] || words(event.kind);
  return [
    "Meeting ",
    el("strong", {}, meeting.title),
    ` ${verb} (hosted by ${meeting.host.name}).`,
    when(event.occurredAt),
  ];
}

function show(kind, event) {
  const key = `${kind}:${event.cursor}`;
  lastCursor[kind] = event.cursor;
  if (seen.has(key)) return;
  seen.add(key);
  if (kind === "member") {
    state.guests.delete(event.organization.id);
    state.members.set(event.organization.id, event.organization);
    renderMembers();
  } else {
    state.meetings.set(event.event.id, event.event);
    renderMeetings();
  }
  $("feed-empty").hidden = true;
  $("feed").prepend(
    el("li", { class: "new", "data-kind": kind, "data-cursor": event.cursor }, describe(kind, event)),
  );
}

function setLive(stateName, text) {
  const node = $("live-state");
  node.dataset.state = stateName;
  node.textContent = text;
}

let client = null;
let retry = 0;

function follow(kind) {
  const field = kind === "member" ? "memberJoined" : "meetingUpdates";
  let again = false;
  const resubscribe = (error) => {
    if (again) return;
    again = true;
    if (error && error.code >= 4400 && error.code < 4500 && error.code !== 4408) {
      setLive("stopped", "Live updates stopped: the token was refused.");
      return;
    }
    setLive("reconnecting", "Reconnecting…");
    retry = Math.min(retry + 1, 4);
    setTimeout(() => follow(kind), 500 * 2 ** (retry - 1)); // 0.5 s, 1 s, 2 s, then every 4 s
  };
  client.subscribe(
    { query: SUBSCRIPTIONS[kind], variables: { after: lastCursor[kind] || firstCursor } },
    {
      next: (message) => {
        if (message.data && message.data[field]) show(kind, message.data[field]);
        else if (message.errors) resubscribe(message.errors[0]);
      },
      error: resubscribe,
      complete: () => resubscribe(null),
    },
  );
}

function startLive() {
  const authorization = token() ? `Bearer ${token()}` : null;
  client = window.graphqlWs.createClient({
    url: WS_ENDPOINT.href,
    connectionParams: authorization ? { authorization } : {},
    lazy: true,
    retryAttempts: 0, // we resubscribe ourselves, with the last cursor (a retry would resend the first)
    keepAlive: 10_000,
    on: {
      connected: () => {
        retry = 0;
        setLive("live", "Live: connected.");
      },
      closed: () => setLive("reconnecting", "Reconnecting…"),
    },
  });
  follow("member");
  follow("meeting");
}

// ---- start ----

function askForToken(reason) {
  $("status").textContent = "";
  $("club").hidden = true;
  $("access").hidden = false;
  $("access-reason").textContent = reason;
  // A kept token refused (revoked, or from before a reset) may be forgotten: where anonymous
  // reads are on, the club then shows without one.
  $("forget").hidden = !token();
  $("token").focus();
}

// `fromForm`: the token form had the focus; it is hidden once the club shows, so the focus
// moves to the club (else the browser drops it to the page's start).
async function start({ fromForm = false } = {}) {
  try {
    const data = await loadClub();
    takeIn(data);
    renderMembers();
    renderMeetings();
    renderGroups();
    $("status").textContent = "";
    $("access").hidden = true;
    $("club").hidden = false;
    $("forget").hidden = !token();
    if (fromForm) $("main").focus();
    startLive();
  } catch (error) {
    if (error instanceof Unauthenticated) {
      askForToken(
        token()
          ? `The token kept in this browser was refused${error.message ? `: ${error.message}` : "."} Give another.`
          : "This service shows the club to holders of an API token only (anonymous reads are off).",
      );
    } else {
      $("status").textContent = `The club could not be loaded: ${error.message}`;
    }
  }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const given = $("token").value.trim().replace(/^Bearer\s+/i, "");
  if (!given) return;
  try {
    localStorage.setItem(TOKEN_KEY, given);
  } catch {
    // storage refused: nothing to keep it in
  }
  $("token").value = "";
  $("status").textContent = "Loading the club…";
  start({ fromForm: true });
});

$("forget").addEventListener("click", () => {
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage refused: nothing was kept in it
  }
  location.reload();
});

start();
