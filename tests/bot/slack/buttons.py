"""Pressing a button of a message the Slack stand-in holds: the signed `block_actions` request Slack would send."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.bot.slack.harness import Reply, Served, post, signed_headers
from tests.fakes.slack_api import SlackStandIn

_triggers = itertools.count(1)


def button(message: dict[str, Any], action_id: str, title: str | None = None) -> tuple[str, dict[str, Any]]:
    """The (block_id, element) of the first button `action_id` in `message`, under the test `title` if given."""
    last_section = ""
    for block in message["blocks"]:
        if block["type"] == "section":
            last_section = block["text"]["text"]
            accessory = block.get("accessory")
            if accessory and accessory.get("action_id") == action_id:
                return block["block_id"], accessory
        if block["type"] == "actions" and (title is None or f"*{title}*" in last_section):
            for element in block["elements"]:
                if element["action_id"] == action_id:
                    return block["block_id"], element
    raise AssertionError(f"no {action_id} button{f' under {title}' if title else ''} in the message")


def press_body(
    slack: SlackStandIn,
    message: dict[str, Any],
    channel_id: str,
    action_id: str,
    *,
    title: str | None = None,
    user_id: str = "U0DANA",
    user_name: str = "dana",
    team_id: str = "T0TEAM",
    trigger_id: str | None = None,
    response: str = "press",
    value: str | None = None,
) -> str:
    block_id, element = button(message, action_id, title)
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": "A0APP",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or f"{next(_triggers)}.2.press",
        "team": {"id": team_id, "domain": "team"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": slack.channels.get(channel_id, "")},
        "message": message,
        "state": {"values": {}},
        "response_url": slack.response_url(response),
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": element["text"],
                **({"value": element["value"]} if "value" in element and value is None else {}),
                **({"value": value} if value is not None else {}),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def send(served: Served, body: str, retry: int | None = None) -> Reply:
    headers = signed_headers(body)
    if retry is not None:
        headers = {**headers, "X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return post(served.url, body, headers)


def stored_messages(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    """The channel's messages as they are now (chat.update applied), oldest first."""
    return [m for m in (slack.message(channel, s["ts"]) for s in list(slack.stored.get(channel, []))) if m]


def updates(slack: SlackStandIn) -> list[dict[str, Any]]:
    """Every chat.update call, blocks decoded."""
    out = []
    for call in slack.calls_to("chat.update"):
        params = dict(call.params)
        if isinstance(params.get("blocks"), str):
            params["blocks"] = json.loads(params["blocks"])
        out.append(params)
    return out
