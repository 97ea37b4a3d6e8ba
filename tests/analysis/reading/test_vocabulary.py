"""The vocabulary of column names: every entry of the table, the normaliser, and "did you mean"."""

from __future__ import annotations

import pytest

from analysis.reading.vocabulary import NAMES, ROLES, TABLE, did_you_mean, key, role_of, spelled, words

ENTRIES = [(name, role) for role, names in TABLE.items() for name in names]


@pytest.mark.parametrize(("name", "role"), ENTRIES, ids=[f"{role}:{name}" for name, role in ENTRIES])
def test_every_name_in_the_table_reads_as_its_role(name: str, role: str) -> None:
    # One name per case: a name that collides with another role's after normalising fails here.
    assert role_of(name) == role
    assert role in ROLES


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Spend [USD]", "spend"),
        ("Amount spent (EUR)", "spend"),
        ("Cost (usd)", "spend"),
        ("Importe gastado (MXN)", "spend"),
        ("Ausgegebener Betrag (EUR)", "spend"),
        ("Spend USD", "spend"),
        ("Purchases", "macro"),
        ("Purchase", "macro"),
        ("PURCHASES", "macro"),
        ("# of Purchase", "macro"),
        ("# of Website Clicks", "traffic"),
        ("Website Clicks", "traffic"),
        ("number of clicks", "traffic"),
        ("[Clicks]", "traffic"),
        ("SalesInThousands", "amount"),
        ("Sales", "amount"),
        ("Total revenue (USD)", "amount"),
        ("Net sales", "amount"),
        ("Total_Conversion", "micro"),
        ("Approved_Conversion", "macro"),
        ("Spent", "spend"),
        ("converted", "macro"),
        ("retention_7", "macro"),
        ("user_id", "id"),
        ("AdGroupName", "variant"),
        ("Add-to-carts", "micro"),
        ("Impr.", "impressions"),
        ("# of Impressions", "impressions"),
        ("Link-Klicks", "traffic"),
        ("Clics en el enlace", "traffic"),
        ("Engagement rate", "ignore"),
        ("Cost per lead", "ignore"),
        ("Cart views (micro)", "micro"),
        ("Link clicks (traffic)", "traffic"),
        ("Revenue (macro)", "macro"),
    ],
)
def test_headers_as_people_write_them(header: str, role: str) -> None:
    assert role_of(header) == role


@pytest.mark.parametrize("header", ["", None, "Anything", "MarketID", "week", "ad_id", "Ad group status", "gender"])
def test_unknown_headers_have_no_role(header: object) -> None:
    assert role_of(header) is None


def test_the_normaliser_ignores_case_marks_units_plurals_and_camel_case() -> None:
    assert key("# of Website Clicks") == key("website click") == "website click"
    assert key("Spend [USD]") == "spend" and key("Amount spent (EUR)") == "amount spent"
    assert key("Cost (usd)") == "cost"
    assert words("SalesInThousands") == "sales in thousands"
    assert words("Total_Conversion") == "total conversion"
    assert key("Purchases") == key("Purchase")
    assert key("Searches") == key("Search")
    assert key("Status") == "status"  # not "statu"


def test_spelled_is_the_traffic_word_a_sentence_uses() -> None:
    assert spelled("# of Website Clicks") == "website clicks"
    assert spelled("Impr.") == "impressions"
    assert spelled("Link clicks") == "link clicks"


def test_each_normalised_name_has_one_role() -> None:
    assert len(NAMES) == len({key(name) for name, _ in ENTRIES})


@pytest.mark.parametrize(
    ("header", "meant", "role"),
    [
        ("Varient", "Variant", "variant"),
        ("Clciks", "Clicks", "traffic"),
        ("Cart views (mirco)", "Cart views (micro)", "micro"),
        ("Visiters", "Visitors", "traffic"),
        ("Campain", "Campaign", "campaign"),
        ("Purchses", "Purchases", "macro"),
        ("Link clics (trafic)", "Link clics (traffic)", "traffic"),
    ],
)
def test_did_you_mean_by_edit_distance(header: str, meant: str, role: str) -> None:
    near = did_you_mean(header)
    assert near is not None
    assert (near.column, near.meant, near.role) == (header, meant, role)


@pytest.mark.parametrize("header", ["Clicks", "Variant", "gender", "week", "Notes", "Cart views (micro)", "Ad", "id"])
def test_known_or_faraway_headers_get_no_did_you_mean(header: str) -> None:
    assert did_you_mean(header) is None
