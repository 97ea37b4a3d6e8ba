from __future__ import annotations

import pytest

from analysis.models import ChannelRoute
from bot.routing import campaigns_for_channel, channel_matches, same_campaign


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
def test_a_channel_written_any_usual_way_matches(written: str) -> None:
    assert channel_matches(written, "C0SPRING1", "spring-sale")


@pytest.mark.parametrize("written", ["#spring", "spring-sale-2", "C0OTHER12", "", "#"])
def test_other_channels_do_not_match(written: str) -> None:
    assert not channel_matches(written, "C0SPRING1", "spring-sale")


def test_campaigns_for_channel_in_sheet_order_without_duplicates() -> None:
    routes = (
        ChannelRoute(campaign="Spring Sale", channel="#spring-sale"),
        ChannelRoute(campaign="Brand Search", channel="#search-team"),
        ChannelRoute(campaign="Summer Launch", channel="C0SPRING1"),
        ChannelRoute(campaign="Spring Sale", channel="spring-sale", schedule="mon 08:30"),
    )
    assert campaigns_for_channel(routes, "C0SPRING1", "spring-sale") == ("Spring Sale", "Summer Launch")
    assert campaigns_for_channel(routes, "C0RANDOM1", "random") == ()
    assert campaigns_for_channel(routes, "C0RANDOM1", None) == ()


def test_a_star_row_routes_every_campaign() -> None:
    routes = (ChannelRoute(campaign="*", channel="#marketing"), ChannelRoute(campaign="X", channel="#marketing"))
    assert campaigns_for_channel(routes, "C0MARKET1", "marketing") is None


def test_campaign_names_compare_like_people_type_them() -> None:
    assert same_campaign("Spring  Sale", " spring sale")
    assert not same_campaign("Spring Sale", "Spring Sales")
