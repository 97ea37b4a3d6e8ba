"""The column names people and platforms really use, and the role each one plays.

One table (`TABLE`), extended in one place: a name is written as it appears in a file, and compared through
`key`, which ignores case, `#`, `of`, `_`, punctuation, surrounding brackets, a unit or currency code
(`Spend [USD]`, `Amount spent (EUR)`), plurals (`Purchases` is `Purchase`) and CamelCase (`SalesInThousands`).
A header that is not in the table but close to a name in it gets a "did you mean" (`did_you_mean`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

# campaign, test, variant, traffic, impressions, spend, currency, date, split (each arm's planned share of the
# traffic), micro, macro, action, value, amount, id (one row per visitor or user: the column naming them),
# ignore (known, and not read)
Role = str
ROLES = (
    "campaign",
    "test",
    "variant",
    "traffic",
    "impressions",
    "spend",
    "currency",
    "date",
    "split",
    "micro",
    "macro",
    "action",
    "value",
    "amount",
    "id",
    "ignore",
)

# Names as written: English as Google Ads, Microsoft Advertising, Meta Ads Manager and GA4 download them and as
# public campaign datasets name them, then the German, French and Spanish names the platforms' localised
# interfaces export (Google Ads' and Meta's help centres and exports as pasted in public code).
TABLE: dict[Role, tuple[str, ...]] = {
    "campaign": (
        "Campaign",
        "Campaign name",
        "Session campaign",
        "Session manual campaign name",
        "First user campaign",
        "Kampagne",
        "Kampagnenname",
        "Name der Kampagne",
        "Campagne",
        "Nom de la campagne",
        "Campaña",
        "Nombre de la campaña",
    ),
    "test": ("Test", "Test name", "Experiment", "Experiment name"),
    "variant": (
        "Variant",
        "Variation",
        "Version",
        "Arm",
        "Group",
        "Test group",
        "Bucket",
        "Promotion",
        "Ad group",
        "Ad group name",
        "Ad set",
        "Ad set name",
        "Ad",
        "Ad name",
        "Ad title",
        "Keyword",
        "Search keyword",
        "Search term",
        "Landing page",
        "Session manual ad content",
        "First user manual ad content",
        "Session manual term",
        "Anzeigengruppe",
        "Name der Anzeigengruppe",
        "Anzeigengruppenname",
        "Anzeige",
        "Anzeigenname",
        "Name der Anzeige",
        "Suchbegriff",
        "Groupe d'annonces",
        "Ensemble de publicités",
        "Nom de l'ensemble de publicités",
        "Annonce",
        "Nom de la publicité",
        "Mot clé",
        "Terme de recherche",
        "Grupo de anuncios",
        "Conjunto de anuncios",
        "Nombre del conjunto de anuncios",
        "Anuncio",
        "Nombre del anuncio",
        "Palabra clave",
        "Término de búsqueda",
    ),
    "traffic": (
        "Clicks",
        # Google Ads' own traffic for video and Demand Gen campaigns (a view or a click); Clicks win when both exist.
        "Interactions",
        "Link clicks",
        "Unique link clicks",
        "Website clicks",
        "# of Website Clicks",
        "Sessions",
        "Users",
        "Total users",
        "Active users",
        "Visitors",
        "Unique visitors",
        "Visits",
        "Klicks",
        "Link-Klicks",
        "Sitzungen",
        "Nutzer",
        "Besucher",
        "Clics",
        "Clics sur un lien",
        "Visiteurs",
        "Utilisateurs",
        "Clics en el enlace",
        "Sesiones",
        "Usuarios",
        "Visitantes",
    ),
    "impressions": (
        "Impressions",
        "Impr.",
        "# of Impressions",
        "Impressionen",
        "Impresiones",
    ),
    "spend": (
        "Cost",
        "Spend",
        "Spent",
        "Amount spent",
        "Kosten",
        "Ausgegebener Betrag",
        "Coût",
        "Montant dépensé",
        "Costo",
        "Coste",
        "Importe gastado",
    ),
    "currency": ("Currency", "Currency code", "Währungscode", "Devise", "Código de moneda"),
    "date": (
        "Date",
        "Day",
        "Reporting starts",
        "Datum",
        "Beginn des Berichtszeitraums",
        "Jour",
        "Début des rapports",
        "Fecha",
        "Día",
        "Inicio del informe",
    ),
    # Each arm's planned share of the traffic: only a test that plans its split has it checked. No platform
    # export seen states one; an experiment report that does would name its column here.
    "split": ("Split", "Planned split", "Traffic split"),
    "micro": (
        "Add to cart",
        "Adds to cart",
        "Add-to-carts",
        "# of Add to Cart",
        "Website adds to cart",
        "Begin checkout",
        "Checkouts",
        "Checkouts initiated",
        "Checkouts initiated on website",
        "Leads",
        "Landing page views",
        "Cart views",
        "Demo requests",
        "Content views",
        "# of View Content",
        "# of Searches",
        # An enquiry in the Facebook ad campaign dataset (KAG): Approved_Conversion counts the sales among them.
        "Total_Conversion",
        "retention_1",
        "Zum Warenkorb hinzugefügt",
        "Ajouts au panier",
        "Prospects",
        "Artículos agregados al carrito",
        "Clientes potenciales",
    ),
    "macro": (
        "Purchases",
        "# of Purchase",
        "Website purchases",
        "Conversions",
        "Conv.",
        "Ecommerce purchases",
        "Transactions",
        "Sign-ups",
        "Signups",
        "Registrations completed",
        "Key events",
        "New clients",
        "Orders",
        "Approved_Conversion",
        "converted",
        "retention_7",
        "Käufe",
        "Achats",
        "Conversiones",
        "Compras",
    ),
    "action": ("Conversion action", "Conversion action name", "Conversion name", "Event name", "Goal", "Goals"),
    "value": ("All conv.", "All conversions", "Event count"),
    "amount": (
        "Revenue",
        "Total revenue",
        "Purchase revenue",
        "Sales",
        "SalesInThousands",
        "Conversion value",
        "Conv. value",
        "All conv. value",
        "Purchase value",
        "Purchases conversion value",
        "Umsatz",
        "Conv.-Wert",
        "Chiffre d'affaires",
        "Valeur de conv.",
        "Ingresos",
        "Valor de conv.",
    ),
    "id": (
        "User ID",
        "userid",
        "Visitor ID",
        "Client ID",
        "Customer ID",
        "User pseudo ID",
        "Cookie ID",
    ),
    # Known, and deliberately not read: rates, averages, settings and exposure that is not traffic.
    "ignore": (
        "Reach",
        "Alcance",
        "Reichweite",
        "Couverture",
        "Frequency",
        "CTR",
        "CPC",
        "Avg. CPC",
        "Average CPC",
        "CPM",
        "Max. CPC",
        "Cost / conv.",
        "Cost per conversion",
        "Cost per result",
        "Conv. rate",
        "Conversion rate",
        "Conversion value / cost",
        # Conversions with no click behind them: not a share of the clicks.
        "View-through conv.",
        "View-through conversions",
        "ROAS",
        "Results",
        "Result indicator",
        "Reporting ends",
        "Budget",
        "Budget type",
        "Match type",
        "Quality Score",
        "Status",
        "Control",
        "Planned visitors",
        "Notes",
    ),
}

# What `key` strips: a trailing unit or ISO currency code in brackets, or the code alone at the end.
_CURRENCY_CODES = (
    "usd|eur|gbp|jpy|inr|cad|aud|nzd|chf|sek|nok|dkk|pln|czk|huf|brl|mxn|ars|clp|cop|pen|zar|try|aed|sar|"
    "sgd|hkd|cny|krw|twd|thb|idr|myr|php|ils|ron|bgn"
)
_UNIT = re.compile(rf"\s*[(\[]\s*(?:{_CURRENCY_CODES}|[$€£¥₹%]|in thousands|thousands|k)\s*[)\]]\s*$")
_TRAILING_CODE = re.compile(rf"(?<=\S)\s+(?:{_CURRENCY_CODES})$")
_SURROUNDING = re.compile(r"^\s*[(\[{]\s*(?P<inner>[^()\[\]{}]+?)\s*[)\]}]\s*$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_FILLER = re.compile(r"\b(?:(?:total )?number of|count of|of)\b")
_PUNCTUATION = re.compile(r"[^\w/%+]+")
_KEEP_S = ("ss", "us", "is")
# Abbreviations platforms write in headers, spelled out where a header becomes a word in a sentence.
_SPELLED = {"impr": "impressions", "conv": "conversions"}
_METRIC_SUFFIX = re.compile(r"^(?P<name>.+?)\s*\((?P<kind>[^()]+)\)$")
_MARKS = ("micro", "macro", "traffic")


def words(header: object) -> str:
    """The header as lower-case words: no case, `#`, `of`, `_`, punctuation, surrounding brackets, units or
    currency codes; CamelCase split (`SalesInThousands` is `sales in thousands`). Plurals kept."""
    if header is None:
        return ""
    text = " ".join(str(header).split())
    if inner := _SURROUNDING.match(text):
        text = inner["inner"]
    text = _CAMEL.sub(" ", text).lower().replace("_", " ").replace("#", " ")
    text = _UNIT.sub("", text)
    text = _PUNCTUATION.sub(" ", text.replace(".", "").replace("'", " ").replace("’", " "))
    text = " ".join(text.split())
    text = _TRAILING_CODE.sub("", text)
    return " ".join(_FILLER.sub(" ", f" {text} ").split())


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    return word[:-1]


def key(header: object) -> str:
    """The header as the table compares it: `words`, each one singular."""
    return " ".join(_singular(w) for w in words(header).split())


def _build() -> tuple[dict[str, Role], dict[str, str]]:
    roles: dict[str, Role] = {}
    written: dict[str, str] = {}
    for role, names in TABLE.items():
        for name in names:
            roles.setdefault(key(name), role)
            written.setdefault(key(name), name)
    return roles, written


NAMES, _WRITTEN = _build()
_AMOUNT_WORDS = frozenset({"revenue", "sale", "umsatz", "ingreso", "income", "gmv"})
# Ratios and averages, whatever they are a ratio of (`Engagement rate`, `Cost per lead`, `Avg. session duration`).
_RATIO = re.compile(r"\b(?:rate|ratio|ctr|cpc|cpm|cpa|roas|frequency|duration)$|^(?:cost per|avg|average)\b")


def role_of(header: object) -> Role | None:
    """The role a header plays by its name, or None for a name microopt does not know (a number or a date is
    never a name). A money column not in the table (`Total revenue EUR`, `Net sales`) is an amount."""
    return _role_of_text(header) if isinstance(header, str) else None


@lru_cache(maxsize=65536)
def _role_of_text(header: str) -> Role | None:
    # Cached: a header search meets the same texts on row after row (campaign names, `control`, `yes`).
    marked = _METRIC_SUFFIX.match(" ".join(header.split()))
    if marked and marked["kind"].strip().lower() in _MARKS:
        return marked["kind"].strip().lower()
    name = key(header)
    if not name:
        return None
    known = NAMES.get(name)
    if known is not None:
        return known
    if _RATIO.search(name):
        return "ignore"
    if _AMOUNT_WORDS & set(name.split()) or "conversion value" in name:
        return "amount"
    return None


def spelled(header: object) -> str:
    """A header as a word in a sentence (`# of Website Clicks` is "website clicks", `Impr.` "impressions")."""
    return " ".join(_SPELLED.get(w, w) for w in words(header).split())


@dataclass(frozen=True)
class NearMiss:
    """A header one typo away from a known name: what was written, what was probably meant, and its role."""

    column: str
    meant: str
    role: Role


# The hand-made layout's own headers, suggested as they are written in the example sheet.
HAND_MADE = ("Campaign", "Test", "Variant", "Date", "Visitors", "Sessions", "Users", "Clicks", "Spend")
_CUTOFF = 0.8
_HAND_MADE_KEYS = {key(h): h for h in HAND_MADE}
# Names worth suggesting: long enough for an edit distance to mean something, and read when matched.
_SUGGESTED = {k: w for k, w in _WRITTEN.items() if len(k) >= 4 and NAMES[k] != "ignore"}
_MARK_CUTOFF = 0.7


@lru_cache(maxsize=4096)
def did_you_mean(header: object) -> NearMiss | None:
    """The known name a header that is not in the table is closest to, by edit distance (`Varient` → Variant,
    `Clciks` → Clicks, `Cart views (mirco)` → `Cart views (micro)`); None when nothing is close."""
    column = " ".join(str(header).split()) if header is not None else ""
    if not column or role_of(column) is not None:
        return None
    marked = _METRIC_SUFFIX.match(column)
    if marked and marked["kind"].strip().lower() not in _MARKS:
        mark = difflib.get_close_matches(marked["kind"].strip().lower(), _MARKS, n=1, cutoff=_MARK_CUTOFF)
        if mark:
            role = "traffic" if mark[0] == "traffic" else mark[0]
            return NearMiss(column=column, meant=f"{marked['name'].strip()} ({mark[0]})", role=role)
    name = key(column)
    if len(name) < 4:
        return None
    # The hand-made headers first: `Visiters` means Visitors, not the French Visiteurs.
    for candidates in (_HAND_MADE_KEYS, _SUGGESTED):
        close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=_CUTOFF)
        if close:
            return NearMiss(column=column, meant=candidates[close[0]], role=NAMES[close[0]])
    return None


def is_comment(header: str) -> bool:
    """A `#` preamble line (GA4's `# Start date: 20261001`), not a header that starts with `#` (`# of Purchase`)."""
    return header.startswith("#") and role_of(header) is None
