// GraphiQL for the Club Justice API, from the vendored copies only (server/static/vendor).
// Queries and mutations are POSTed to /graphql; subscriptions run over graphql-ws with the
// token in connection_init. A token given in any tab's headers (or on the club page at /)
// is kept in this browser and sent by every tab whose headers name none; the schema
// (Docs, Explorer) is fetched again as soon as the token changes.
"use strict";

(function () {
  const TOKEN_KEY = "clubjustice.token"; // shared with the club page (club.js)
  const config = JSON.parse(document.getElementById("ide-config").textContent);
  const { React, ReactDOM, GraphiQL, GraphiQLPluginExplorer, graphqlWs } = window;
  const endpoint = new URL(config.endpoint, location.href);
  const wsEndpoint = new URL(endpoint);
  wsEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

  function rememberedToken() {
    try {
      return localStorage.getItem(TOKEN_KEY) || "";
    } catch {
      return "";
    }
  }

  // The Authorization header a headers text names ("" when none, or when not JSON yet).
  function authorizationOf(headersText) {
    try {
      const headers = JSON.parse(headersText || "{}");
      for (const [name, value] of Object.entries(headers)) {
        if (name.toLowerCase() === "authorization" && typeof value === "string") return value;
      }
    } catch {
      // still being typed
    }
    return "";
  }

  function withToken(headers) {
    const given = authorizationOf(JSON.stringify(headers || {}));
    if (given) return { ...headers };
    const token = rememberedToken();
    return token ? { ...headers, Authorization: `Bearer ${token}` } : { ...headers };
  }

  function isSubscription(params, opts) {
    const definitions = (opts && opts.documentAST && opts.documentAST.definitions) || [];
    const operations = definitions.filter((d) => d.kind === "OperationDefinition");
    const chosen =
      operations.find((d) => d.name && d.name.value === params.operationName) ||
      (operations.length === 1 ? operations[0] : null);
    return chosen ? chosen.operation === "subscription" : false;
  }

  // One graphql-ws client per Authorization value (the server reads it once, at connection_init).
  const wsClients = new Map();
  function wsClient(authorization) {
    if (!wsClients.has(authorization)) {
      wsClients.set(
        authorization,
        graphqlWs.createClient({
          url: wsEndpoint.href,
          connectionParams: authorization ? { authorization } : {},
          lazy: true,
          retryAttempts: 0,
        }),
      );
    }
    return wsClients.get(authorization);
  }

  function fetcher(params, opts) {
    const headers = withToken(opts && opts.headers);
    if (isSubscription(params, opts)) {
      return wsClient(authorizationOf(JSON.stringify(headers))).iterate(params);
    }
    return fetch(endpoint, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify(params),
    }).then((response) => response.json());
  }

  // GraphiQL's own state (tabs, history) under a prefix of ours: an older GraphiQL served
  // here before kept its tabs under the default names.
  const storage = {
    getItem: (key) => localStorage.getItem(`clubjustice:${key}`),
    setItem: (key, value) => localStorage.setItem(`clubjustice:${key}`, value),
    removeItem: (key) => localStorage.removeItem(`clubjustice:${key}`),
    clear: () => {
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith("clubjustice:")) localStorage.removeItem(key);
      }
    },
    get length() {
      return Object.keys(localStorage).filter((k) => k.startsWith("clubjustice:")).length;
    },
  };

  const explorer = GraphiQLPluginExplorer.explorerPlugin();

  function IDE() {
    // The token in effect: a new value makes a new fetcher, and GraphiQL then fetches the
    // schema again (its introspection depends on the fetcher).
    const [authorization, setAuthorization] = React.useState(
      () => authorizationOf(config.headers) || rememberedToken(),
    );
    const timer = React.useRef(null);
    const onEditHeaders = React.useCallback((text) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        const given = authorizationOf(text);
        const token = given.replace(/^Bearer\s+/i, "").trim();
        if (token && given !== authorizationOf(config.headers)) {
          try {
            localStorage.setItem(TOKEN_KEY, token);
          } catch {
            // storage refused: the token is still used from this tab's headers
          }
        }
        setAuthorization(given || (rememberedToken() ? `Bearer ${rememberedToken()}` : ""));
      }, 300);
    }, []);
    const boundFetcher = React.useMemo(
      () => (params, opts) => fetcher(params, opts),
      [authorization],
    );
    return React.createElement(GraphiQL, {
      fetcher: boundFetcher,
      plugins: [explorer],
      defaultTabs: config.tabs,
      defaultHeaders: config.headers || undefined,
      defaultEditorToolsVisibility: "headers",
      onEditHeaders,
      storage,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(IDE));
})();
