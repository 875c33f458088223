"""The service's two pages for people: the club page at `/` and GraphiQL at `/graphql`,
and the files they load from `/static/` (server/static, the vendored copies included:
nothing comes from another site, so both work without internet)."""

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

# Every script, style, font and connection is the service's own: no inline script, no eval,
# no other origin; nobody may frame a page that keeps a token. Styles may be inline
# (GraphiQL's React components set `style` attributes); images and fonts may be data: URLs
# (GraphiQL's CSS embeds its fonts).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

# GraphiQL's tabs when it first opens (the README's examples, a subscription, a mutation).
# tests/server/test_pages.py validates each against the schema.
AUTHENTICATE = """\
# Welcome to the Club Justice API.
#
# To authenticate, open "Headers" below and give a token:
#   {"Authorization": "Bearer cj_…"}
# `scripts/demo` prints demo tokens (and opens this
# page with the member's already in the headers); an
# operator makes others: `clubjustice token create`.
# A token given in any tab is kept in this browser and
# sent by every tab whose headers name none.
#
# The schema (Docs, Explorer) loads as soon as the token
# is there. Subscriptions (the MemberJoined tab) run over
# graphql-ws, with the same token.
#
# Who am I? Run it with the pink button (Ctrl-Enter):
query Viewer {
  viewer { role organization { name status } }
}
"""
IDE_TABS: list[tuple[str, str]] = [
    ("Authenticate", AUTHENTICATE),
    (
        "Members",
        """\
# The directory, a page at a time (pass pageInfo.endCursor as `after` for the next page).
query Members {
  organizations(first: 5, filter: {status: MEMBER}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { name kind country { code name region } joinedAt sponsor { name } } }
  }
}
""",
    ),
    (
        "Launch meeting",
        """\
# The launch meeting, who came and in which role.
query LaunchMeeting {
  events(filter: {startsBefore: "2021-11-01T00:00:00Z"}) {
    edges {
      node {
        title startsAt status
        host { name }
        attendances { role organization { name country { name } } }
        guests { name }
      }
    }
  }
}
""",
    ),
    (
        "Country and group",
        """\
# A country, its organizations and member count; a working group and its plan.
query CountryAndGroup {
  country(code: "MK") { name memberCount organizations { name status } }
  workingGroup(slug: "paralegal-field-work") {
    name lead { name }
    members { name country { code } }
    actionPlan { title status dueDate owner { name } }
  }
}
""",
    ),
    (
        "Live",
        """\
# New members as they join: run it, then accept the demo
# guest's invitation (the Accept tab, with the guest's token).
# With `after: "<cursor>"`: first every one since that event.
subscription MemberJoined {
  memberJoined { cursor joinedAt organization { name country { name } } sponsor { name } }
}
""",
    ),
    (
        "Accept",
        """\
# A mutation: the invited organization accepts (with its
# token, e.g. the demo guest's). Its invitations' ids:
# { viewer { organization { invitationsReceived { id status } } } }
mutation Accept($id: ID!) {
  acceptInvitation(id: $id) {
    invitation { status invitee { name status } }
    errors { code message }
  }
}
""",
    ),
]


def _page(title: str, head: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
{head}
</head>
{body}
</html>
"""


def _json_for_html(value: object) -> str:
    """JSON inside a <script type="application/json">: `<` escaped so that no `</script>`
    can end the element early."""
    return json.dumps(value).replace("<", "\\u003c")


def ide_page(demo_token: str | None = None) -> str:
    """GraphiQL's page; `demo_token` (given by `clubjustice demo` only) fills its headers."""
    headers = json.dumps({"Authorization": f"Bearer {demo_token}"}) if demo_token else ""
    config = {
        "endpoint": "/graphql",
        "headers": headers,
        "tabs": [{"query": query, "headers": headers} for _, query in IDE_TABS],
    }
    vendor = "/static/vendor"
    head = f"""<link rel="stylesheet" href="{vendor}/graphiql.min.css">
<link rel="stylesheet" href="{vendor}/plugin-explorer.css">
<link rel="stylesheet" href="/static/ide.css">
<script type="application/json" id="ide-config">{_json_for_html(config)}</script>
<script src="{vendor}/react.production.min.js" defer></script>
<script src="{vendor}/react-dom.production.min.js" defer></script>
<script src="{vendor}/graphiql.min.js" defer></script>
<script src="{vendor}/plugin-explorer.umd.js" defer></script>
<script src="{vendor}/graphql-ws.min.js" defer></script>
<script src="/static/ide.js" defer></script>"""
    body = """<body>
<div id="graphiql"><p class="loading">Loading GraphiQL…</p></div>
<noscript>GraphiQL needs JavaScript. The API answers any GraphQL client at /graphql.</noscript>
</body>"""
    return _page("Club Justice API — GraphiQL", head, body)


def club_page() -> str:
    head = """<link rel="stylesheet" href="/static/club.css">
<script src="/static/vendor/graphql-ws.min.js" defer></script>
<script type="module" src="/static/club.js"></script>"""
    return _page("Club Justice — the club, live", head, (STATIC / "club.html").read_text())


class StaticWithHeaders(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def page_routes() -> list[BaseRoute]:
    """`/` (the club page) and `/static/` (its files and GraphiQL's)."""
    club = club_page()

    async def club_endpoint(request: Request) -> Response:
        return HTMLResponse(club, headers=SECURITY_HEADERS)

    return [
        Route("/", club_endpoint, methods=["GET", "HEAD"]),
        Mount("/static", StaticWithHeaders(directory=STATIC), name="static"),
    ]
