"""The strawberry methods server/app.py overrides, as strawberry-graphql 0.341.2 has them.

An override of a method strawberry renamed, or whose arguments it changed, would silently
stop being called (or be called wrongly): the transport would fall back to strawberry's
own rules (a stream for any Accept that lists one, a 400 where the spec wants 200, ...).
This fails first, naming the hook to look at again.
"""

import inspect

import pytest
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.http.base import BaseView

from server.app import ClubJusticeGraphQL

# hook: its parameters, as written against strawberry-graphql 0.341.2
HOOKS = {
    # private: which stream `Accept` asks for (we: only a preferred one)
    "_get_stream_transport_from_headers": ["self", "headers"],
    # private: the decoded JSON array of a batch, before its items are read
    "_validate_batch_request": ["self", "request_data", "protocol"],
    # private: the transport of a protocol name
    "_get_stream_transport": ["self", "protocol"],
    "parse_http_body": ["self", "request"],
    "execute_operation": [
        "self",
        "request",
        "request_adapter",
        "request_data",
        "context",
        "root_value",
        "sub_response",
    ],
    "execute_single": [
        "self",
        "request",
        "request_adapter",
        "sub_response",
        "context",
        "root_value",
        "request_data",
    ],
    "process_result": ["self", "request", "result"],
    "create_response": ["self", "response_data", "sub_response"],
    "should_render_graphql_ide": ["self", "request"],
}


@pytest.mark.parametrize("hook", list(HOOKS))
def test_the_hooks_written_against_strawberry_0_341_2_still_exist(hook: str) -> None:
    ours = getattr(ClubJusticeGraphQL, hook)
    theirs = next(vars(cls)[hook] for cls in ClubJusticeGraphQL.__mro__[1:] if hook in vars(cls))
    assert list(inspect.signature(theirs).parameters) == HOOKS[hook]
    assert list(inspect.signature(ours).parameters) == HOOKS[hook]
    assert any(hook in vars(cls) for cls in (AsyncBaseHTTPView, BaseView))


def test_run_streams_with_the_protocol_we_set_on_the_request_data() -> None:
    # execute_operation picks a stream for a subscription by setting
    # `request_data.protocol`; strawberry's run() must read it after execute_operation.
    source = inspect.getsource(AsyncBaseHTTPView.run)
    assert source.index("self.execute_operation(") < source.index("protocol=request_data.protocol")
