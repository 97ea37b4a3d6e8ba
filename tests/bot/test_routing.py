from __future__ import annotations

import pytest

from analysis.models import ChannelRoute
from bot.routing import (
    Where,
    access_for,
    campaigns_for_channel,
    channel_matches,
    channel_problems,
    needs_names,
    same_campaign,
)

# What conversations.list says the installing workspace calls its channels today.
NAMES = {"spring-sale": "C0SPRING1", "search-team": "C0SEARCH1", "marketing": "C0MARKET1"}


@pytest.mark.parametrize(
    "written",
    [
        "#spring-sale",
        "spring-sale",
        "  #Spring-Sale ",
        "C0SPRING1",
        "<#C0SPRING1|spring-sale>",
        "<#C0SPRING1>",
        "https://team.slack.com/archives/C0SPRING1",
    ],
)
def test_a_channel_written_any_usual_way_matches_its_id(written: str) -> None:
    assert channel_matches(written, "C0SPRING1", NAMES)


@pytest.mark.parametrize("written", ["#spring", "spring-sale-2", "C0OTHER12", "", "#", "#search-team"])
def test_other_channels_do_not_match(written: str) -> None:
    assert not channel_matches(written, "C0SPRING1", NAMES)


def test_a_name_never_matches_without_its_id() -> None:
    """A request's own channel name counts for nothing: only the ID the sheet's name resolves to."""
    assert not channel_matches("#spring-sale", "C0IMPOSTER", NAMES)
    assert not channel_matches("#spring-sale", "C0SPRING1", {})  # names could not be looked up
    assert channel_matches("C0SPRING1", "C0SPRING1", {})  # an ID needs no lookup


def test_campaigns_for_channel_in_sheet_order_without_duplicates() -> None:
    routes = (
        ChannelRoute(campaign="Spring Sale", channel="#spring-sale"),
        ChannelRoute(campaign="Brand Search", channel="#search-team"),
        ChannelRoute(campaign="Summer Launch", channel="C0SPRING1"),
        ChannelRoute(campaign="Spring Sale", channel="spring-sale", schedule="mon 08:30"),
    )
    assert campaigns_for_channel(routes, "C0SPRING1", NAMES) == ("Spring Sale", "Summer Launch")
    assert campaigns_for_channel(routes, "C0RANDOM1", NAMES) == ()
    assert campaigns_for_channel(routes, None, NAMES) == ()


def test_a_star_row_routes_every_campaign() -> None:
    routes = (ChannelRoute(campaign="*", channel="#marketing"), ChannelRoute(campaign="X", channel="#marketing"))
    assert campaigns_for_channel(routes, "C0MARKET1", NAMES) is None


@pytest.mark.parametrize(
    ("where", "reach", "campaigns"),
    [
        (Where("C0SPRING1", "spring-sale", "T0HOME"), "routed", ("Spring Sale",)),
        (Where("C0SPRING1", "whatever", "T0OTHER"), "routed", ("Spring Sale",)),  # Slack Connect, same channel
        (Where("C0RANDOM1", "random", "T0HOME"), "unrouted", ()),
        (Where("C0THEIRS1", "spring-sale", "T0OTHER"), "foreign", ()),
        (Where("D0DIRECT1", "directmessage", "T0HOME"), "unrouted", ()),
    ],
)
def test_access_under_a_channels_tab(where: Where, reach: str, campaigns: tuple[str, ...]) -> None:
    routes = (ChannelRoute(campaign="Spring Sale", channel="#spring-sale"),)
    access = access_for(routes, where, names=NAMES, home_team="T0HOME", open_status=False)
    assert (access.reach, access.campaigns) == (reach, campaigns)


def test_open_status_and_no_tab_open_only_the_home_workspace() -> None:
    routes = (ChannelRoute(campaign="Spring Sale", channel="#spring-sale"),)
    home, other = Where("C0RANDOM1", "random", "T0HOME"), Where("C0RANDOM1", "random", "T0OTHER")
    assert access_for(routes, home, names=NAMES, home_team="T0HOME", open_status=True).reach == "open"
    assert access_for((), home, names=NAMES, home_team="T0HOME").reach == "open"
    assert access_for(routes, other, names=NAMES, home_team="T0HOME", open_status=True).reach == "foreign"
    assert access_for((), other, names=NAMES, home_team="T0HOME").reach == "foreign"
    assert access_for((), home, names=NAMES, home_team=None).reach == "foreign"  # auth.test not answered yet
    assert access_for((), home, names=NAMES, home_team="T0HOME", fallback_to_all=False).reach == "unrouted"


def test_rows_whose_channel_does_not_resolve_are_problems_with_their_cell() -> None:
    routes = (
        ChannelRoute(campaign="Spring Sale", channel="#spring-sale", cell="Channels!B2"),
        ChannelRoute(campaign="Summer", channel="#sumer-launch", cell="Channels!B3"),
        ChannelRoute(campaign="Autumn", channel="#sumer-launch", cell="Channels!B4"),
        ChannelRoute(campaign="Brand", channel="C0SEARCH1", cell="Channels!B5"),
    )
    [problem] = channel_problems(routes, NAMES, None)
    assert problem.cell == "Channels!B3" and "“#sumer-launch”" in problem.message
    [unavailable] = channel_problems(routes, {}, "missing_scope")
    assert "missing_scope" in unavailable.message and "channels:read" in unavailable.message
    assert channel_problems(routes[:1], NAMES, None) == []
    assert needs_names(routes) and not needs_names(routes[3:])


def test_campaign_names_compare_like_people_type_them() -> None:
    assert same_campaign("Spring  Sale", " spring sale")
    assert not same_campaign("Spring Sale", "Spring Sales")
