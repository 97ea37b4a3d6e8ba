"""A verdict in words: the headline and the summary every surface shows (terminal, JSON `summary`, Slack,
digests, the Verdicts tab). Rules live in analysis.verdict; this module only words what they decided.

A called comparison is worded with the numbers it was called on; what came in after the call follows as
later data ("Called on 3 Mar 2026; since then …"), never as a silent change of verdict.
"""

from __future__ import annotations

import datetime as dt
import math

from analysis.models import ArmTotals, CallRecord, Comparison, PathKind, ProxyRecord, TestSpec
from analysis.verdict import Needed, TestContext, Verdict
from analysis.wording import (
    about,
    agree,
    conversions,
    cost_per,
    count,
    counted,
    days,
    lift_words,
    money,
    per_variant,
    percent,
    plural,
    possessive,
    sentence,
    signed_percent,
    singular,
    variant_name,
)

NOISY_SHARE = 0.5
OPEN_ABOVE = 100.0  # a range reaching past +10,000% says nothing more than "or more"
HEADLINES = {
    "broken_split": "Check tracking before trusting this test.",
    "macro_against_micro": "Conflict — do not move budget.",
    "plan_reached": "Plan reached, no winner yet.",
    "ruled_out": "No meaningful difference — stop the test.",
}


def when(moment: dt.datetime | dt.date) -> str:
    """A call's day ('3 Mar 2026') or, for a recorded look, its moment ('3 Mar 2026 14:05 UTC')."""
    if isinstance(moment, dt.datetime):
        return f"{moment:%-d %b %Y %H:%M} UTC"
    return f"{moment:%-d %b %Y}"


# A range whose ends differ by this factor in the rate ratio (-86% to +1239%) says nothing worth printing.
UNINFORMATIVE_RATIO = 10.0


def uninformative(low: float | None, high: float | None) -> bool:
    """The range is too wide to act on: an open end on both sides, or ends a factor of 10 or more apart."""
    if low is None or high is None or low <= -1:
        return low is not None
    return (1 + high) / (1 + low) >= UNINFORMATIVE_RATIO and low < 0 < high


def interval_words(low: float | None, high: float | None, metric: str = "conversions") -> str:
    """', likely +26% to +105%' (empty without an interval); an open end reads 'or more'; a range that says
    nothing, ', too few purchases to say how large'."""
    if low is None:
        return ""
    if uninformative(low, high):
        return f", too few {metric.lower()} to say how large"
    if high is None or high >= OPEN_ABOVE:
        return f", likely {signed_percent(low)} or more"
    return f", likely {signed_percent(low)} to {signed_percent(high)}"


def _rates(c: Comparison) -> tuple[float, float, float | None]:
    """Control rate, variant rate and lift the comparison was called on (today's while it is open)."""
    call = c.at_call
    if call is None or not call.control_visitors or not call.variant_visitors:
        return c.control_rate, c.variant_rate, c.lift
    control = call.control_conversions / call.control_visitors
    return control, call.variant_conversions / call.variant_visitors, call.lift


def _noisy(c: Comparison) -> bool:
    """Most of the observed lift would vanish under a sceptical prior: it rests on too few conversions."""
    if c.lift is None or c.shrunk_lift is None or c.lift <= -1 or c.lift == 0:
        return False
    return math.log1p(c.shrunk_lift) / math.log1p(c.lift) < NOISY_SHARE


def _evidence(spec: TestSpec, c: Comparison) -> str:
    control, variant, lift = _rates(c)
    interval = interval_words(*c.decision_ci, c.metric)
    if _noisy(c) and c.shrunk_lift is not None:
        interval += (
            f"; few {c.metric.lower()} so far, so the real lift is more likely near {signed_percent(c.shrunk_lift)}"
        )
    how = lift_words(lift) if lift is not None else "differently"
    return sentence(
        f"{variant_name(spec.test, c.variant)} converts {how} than {spec.control} on {c.metric.lower()} "
        f"({percent(variant)} vs {percent(control)}{interval})."
    )


def _since(spec: TestSpec, c: Comparison | None) -> str:
    """' Called on 3 Mar 2026 after 12 days; since then: 8.3% vs 5.1% (+63%) on 4,100 clicks per audience.'"""
    if c is None or c.at_call is None:
        return ""
    call: CallRecord = c.at_call
    if call.called_on is None and call.looks <= 1:
        return ""
    on = f" on {when(call.called_on)}" if call.called_on is not None else ""
    text = f" Called{on} after {plural(call.looks, 'look')}"
    same = (call.control_visitors, call.variant_visitors, call.control_conversions, call.variant_conversions) == (
        c.control_visitors,
        c.variant_visitors,
        c.control_conversions,
        c.variant_conversions,
    )
    if same:
        return text + "."
    lift = f" ({signed_percent(c.lift)})" if c.lift is not None else ""
    traffic = counted(count(min(c.control_visitors, c.variant_visitors)), spec.traffic_label)
    return (
        f"{text}; since then: {percent(c.variant_rate)} vs {percent(c.control_rate)}{lift} on "
        f"{traffic} {per_variant(spec.test)}. "
        "The call stands."
    )


def _more(spec: TestSpec, needed: Needed) -> str:
    """'about 11,700 more clicks per audience (≈ $4,900 at today's $0.42 CPC)'."""
    more = needed.visitors or 0
    text = f"about {counted(about(more), f'more {spec.traffic_label}')} {per_variant(spec.test)}"
    if more <= 0:
        return text
    extras = []
    if needed.days is not None and needed.daily_visitors:
        daily = counted(about(needed.daily_visitors), spec.traffic_label)
        extras.append(f"about {days(needed.days)} at the recent {daily} a day")
    if needed.money is not None and needed.unit_cost is not None:
        extras.append(
            f"≈ {money(needed.money, spec.currency)} at today's {money(needed.unit_cost, spec.currency)} "
            f"{cost_per(spec.traffic_label)}"
        )
    return text + (f" ({'; '.join(extras)})" if extras else "")


def _still_needed(spec: TestSpec, macro: Comparison, needed: Needed | None) -> str:
    """What confirming a lift of this size on the macro metric still takes."""
    if needed is not None and needed.beyond_plan and needed.plan is not None:
        planned = counted(about(needed.plan), spec.traffic_label)
        return f"the planned {planned} {per_variant(spec.test)} will not be enough to confirm a lift that size"
    if needed is None or needed.visitors is None:
        return f"there are not enough {macro.metric.lower()} yet to size the rest of the test"
    return f"confirming a lift that size needs {_more(spec, needed)}"


def _track_record(macro: str, record: ProxyRecord | None) -> str:
    """', which have tracked purchases in 3 of 4 finished tests in this sheet'."""
    if record is None or record.finished_tests == 0:
        return f"; no finished test in this sheet shows yet how closely they track {macro.lower()}"
    text = (
        f", which have tracked {macro.lower()} in {record.agreeing_tests} of "
        f"{plural(record.finished_tests, 'finished test')} in this sheet"
    )
    if record.correlation is not None:
        text += (
            f" (lifts correlate {record.correlation:.1f} across {plural(record.correlation_tests, 'test')}, "
            "allowing for noise)"
        )
    return text


def _split(arms: tuple[ArmTotals, ...], traffic_label: str) -> str:
    total = sum(a.visitors for a in arms)
    shares = "/".join(f"{100 * a.visitors / total:.0f}" for a in arms) if total else "0"
    return f"{shares} on {counted(count(total), traffic_label)}"


def _planned(split: tuple[float, ...] | None) -> str:
    return "/".join(f"{100 * share:.0f}" for share in split) if split else "an even split"


def _costs(spec: TestSpec, arms: tuple[ArmTotals, ...]) -> str:
    priced = [(a.variant, a.spend / a.visitors) for a in arms if a.spend is not None and a.visitors > 0]
    if len(priced) < 2:
        return ""
    return (
        f" ({cost_per(spec.traffic_label)}: "
        + ", ".join(f"{v} {money(cost, spec.currency)}" for v, cost in priced)
        + ")"
    )


def _also(spec: TestSpec, others: tuple[str, ...]) -> str:
    if not others:
        return ""
    return f" {', '.join(others)} also beat{'s' if len(others) == 1 else ''} {spec.control}, by less."


def _shut_down(spec: TestSpec, variant: str) -> str:
    return f" Shut down {spec.control} or shift its budget to {variant}, then start the next test."


def _conflict(spec: TestSpec, v: Verdict) -> str:
    micro, macro, funnel = v.rests_on, v.to_confirm, v.funnel
    assert micro is not None and macro is not None
    text = (
        f"{_evidence(spec, micro)[:-1]}, but {macro.metric.lower()} point the other way "
        f"({percent(macro.variant_rate)} vs {percent(macro.control_rate)}"
        f"{interval_words(*macro.decision_ci, macro.metric)})"
    )
    if funnel is not None and funnel.variant_funnel is not None and funnel.control_funnel is not None:
        text += (
            f": {percent(funnel.variant_funnel)} of {possessive(micro.variant)} {micro.metric.lower()} became "
            f"{macro.metric.lower()}, against {percent(funnel.control_funnel)} of {possessive(spec.control)}"
        )
    return text + (
        f". Do not move budget on {micro.metric.lower()} here: check the funnel first (who the extra "
        f"{micro.metric.lower()} are, the pages after them, the tracking of {macro.metric.lower()})."
    )


def _macro_winner(spec: TestSpec, v: Verdict) -> str:
    best, micro = v.rests_on, v.to_confirm
    assert best is not None
    text = _evidence(spec, best)
    if micro is not None and micro.lift is not None and best.lift is not None:
        if micro.lift * best.lift > 0:
            text += f" {micro.metric.capitalize()} moved the same way ({signed_percent(micro.lift)})."
        else:
            text += (
                f" {micro.metric.capitalize()} did not move the same way ({signed_percent(micro.lift)}); "
                f"{best.metric.lower()} {agree(best.metric, 'are what count', 'is what counts')}."
            )
    return text + _since(spec, best) + _also(spec, v.others) + _shut_down(spec, best.variant)


def _confirm(spec: TestSpec, v: Verdict) -> str:
    macro = v.to_confirm
    if macro is None:
        return ""
    return (
        f" {macro.metric.capitalize()} {agree(macro.metric, 'are', 'is')} not called yet "
        f"({conversions(macro.variant_conversions)} vs {conversions(macro.control_conversions)}): "
        f"{_still_needed(spec, macro, v.needed)}."
    )


def _micro_winner(spec: TestSpec, v: Verdict) -> str:
    best, macro = v.rests_on, v.to_confirm
    assert best is not None
    text = f"{_evidence(spec, best)}{_confirm(spec, v)}"
    if macro is not None:
        text += f" This call rests on {best.metric.lower()}{_track_record(macro.metric, v.track_record)}."
    return text + _since(spec, best) + _also(spec, v.others) + _shut_down(spec, best.variant)


def _poor_proxy(spec: TestSpec, v: Verdict) -> str:
    best, macro, record = v.rests_on, v.to_confirm, v.track_record
    assert best is not None and macro is not None and record is not None
    return (
        f"{_evidence(spec, best)} But {best.metric.lower()} have tracked {macro.metric.lower()} in only "
        f"{record.agreeing_tests} of {plural(record.finished_tests, 'finished test')} in this sheet, so this waits "
        f"for {macro.metric.lower()}: {_still_needed(spec, macro, v.needed)}."
    )


def _back_to_control(spec: TestSpec, v: Verdict) -> str:
    worst, macro = v.rests_on, v.to_confirm
    assert worst is not None
    text = _evidence(spec, worst)
    if v.reason == "micro_loser" and macro is not None:
        text += (
            f" This rests on {worst.metric.lower()}; {macro.metric.lower()} are still too few to call "
            f"({conversions(macro.variant_conversions)} vs {conversions(macro.control_conversions)})."
        )
    return text + _since(spec, worst) + f" Keep {spec.control} and stop the other variants."


def _no_difference(spec: TestSpec, arms: tuple[ArmTotals, ...], v: Verdict, context: TestContext) -> str:
    widest = v.rests_on
    assert widest is not None
    control, variant, _ = _rates(widest)
    numbers = f"{percent(variant)} vs {percent(control)}{interval_words(*widest.decision_ci, widest.metric)}"
    effect = f"{context.settings.minimum_effect * 100:.0f}%"
    metric = widest.metric.lower()
    if len(v.deciding) == 1:
        text = (
            f"On {metric}, {variant_name(spec.test, widest.variant)} and {spec.control} convert within {effect} "
            f"of each other ({numbers}): no difference worth acting on."
        )
    else:
        text = (
            f"On {metric}, no variant converts {effect} better or worse than {spec.control} (the widest gap: "
            f"{widest.variant}, {numbers}): no difference worth acting on."
        )
    return text + _since(spec, widest) + f" Keep whichever costs less{_costs(spec, arms)} and start the next test."


def _plan_reached(spec: TestSpec, v: Verdict, context: TestContext) -> str:
    """'The planned 31,000 clicks per audience are in without a lift of +10% or more (…): stop if … or keep
    it running: microopt watches …'."""
    c = v.rests_on
    assert c is not None
    effect = signed_percent(context.settings.minimum_effect)
    planned = about(c.planned_visitors or 0)
    low, high = c.decision_ci
    text = (
        f"The planned {counted(planned, spec.traffic_label)} {per_variant(spec.test)} "
        f"{'is' if planned == '1' else 'are'} in without a lift of {effect} or more on "
        f"{c.metric.lower()} ({variant_name(spec.test, c.variant)}: {percent(c.variant_rate)} vs "
        f"{percent(c.control_rate)}{interval_words(low, high, c.metric)})."
    )
    if high is None or high >= OPEN_ABOVE or uninformative(low, high):
        text += f" Too few {c.metric.lower()} to say how large a lift could still be; keep it running"
    else:
        text += f" Stop if a lift under {signed_percent(high)} is not worth having, or keep it running"
    if v.needed is not None and v.needed.visitors:
        return text + f": microopt watches {_more(spec, v.needed)} and calls it if a lift of {effect} shows."
    return text + ": microopt still calls a large difference if one shows."


def _too_early(spec: TestSpec, first: Comparison, context: TestContext) -> str:
    settings = context.settings
    periods = (first.dispersion_df or 0) + 1
    if not context.days and periods < settings.min_days and spec.status == "done":
        return (
            "Finished on one total: nothing in it shows how much rates swung from day to day, so microopt makes "
            "no call on it (a Date column lets it use the days; MICROOPT_MIN_DAYS=1 calls a single total, "
            "assuming each click converts independently)."
        )
    if not context.days and periods < settings.min_days:
        return (
            "Too early to call: one total cannot show how much rates swing from day to day, so microopt waits "
            f"until it has read new figures {plural(settings.min_days, 'time')} (so far {periods}; with a Date "
            "column it uses the days instead)."
        )
    wait = f"{plural(settings.min_conversions, 'conversion')} in each arm"
    so_far = (
        f"{first.metric.lower()}: {conversions(first.variant_conversions)} vs {conversions(first.control_conversions)}"
    )
    if context.days:
        wait = f"{plural(settings.min_days, 'day')} of data and {wait}"
        so_far = f"{plural(context.days, 'day')}, {so_far}"
    return f"Too early to call: microopt waits for {wait} before calling anything (so far {so_far})."


def _keep_running(spec: TestSpec, v: Verdict, context: TestContext) -> str:
    settings = context.settings
    first = v.rests_on
    if v.reason == "no_conversions" or first is None:
        return "No conversions to compare yet; check back when the variants have converted."
    if v.reason == "plan_reached":
        return _plan_reached(spec, v, context)
    if v.reason == "too_early":
        return _too_early(spec, first, context)
    if v.reason == "not_sized" or v.needed is None:
        return f"No variant is ahead yet. {_evidence(spec, first)}"
    more = _more(spec, v.needed)
    effect = f"{settings.minimum_effect * 100:.0f}%"
    if v.needed.within_plan:
        rest = (
            f"within {more} the planned sample is in, and microopt will either call it or say there is "
            f"no difference worth {effect}"
        )
    else:
        rest = f"{more} would settle a difference that size"
    return f"No variant is ahead yet. {_evidence(spec, first)[:-1]}, too close to call: {rest}."


def headline(spec: TestSpec, v: Verdict) -> str:
    if v.reason in HEADLINES:
        return HEADLINES[v.reason]
    if v.code == "move_budget" and v.best_variant == spec.control:
        return f"Move budget back to {spec.control}."
    if v.code == "move_budget":
        return f"Move budget to {v.best_variant}."
    return "Keep running."


def one_look_note(path: PathKind, v: Verdict) -> str:
    """Said of an undated test when no earlier reads of it were recorded: a call made now is not kept, and a
    test waiting for reads will not see them add up."""
    if path != "one_look":
        return ""
    if v.reason == "too_early":
        return (
            " No state database records these reads, so they never add up: keep the default history, or add a "
            "Date column."
        )
    if v.code not in ("move_budget", "conflict", "no_difference"):
        return ""
    return (
        " This rests on one look: no state database recorded earlier reads of this undated sheet, so a call "
        "made now is not kept for later looks."
    )


# A variance factor from this on is worth a sentence: at 1 it is what independent clicks predict.
SWING_WORTH_SAYING = 2.0


def variation_note(v: Verdict, comparisons: tuple[Comparison, ...], path: PathKind) -> str:
    """How the figures allow for rates that swing between the periods of the test, or, with one period, that
    they assume they do not."""
    shown = [c for c in (v.rests_on, *v.deciding) if c is not None] or list(comparisons)
    factors = [c.dispersion for c in shown if c.dispersion is not None]
    if factors and max(factors) >= SWING_WORTH_SAYING:
        rates = "Daily rates" if path == "days" else "Rates between reads"
        return f" {rates} swing {max(factors):.0f} times more than independent clicks explain; the ranges allow for it."
    acts = v.code in ("move_budget", "conflict", "no_difference")
    if acts and shown and all(c.dispersion is None for c in shown):
        return " One total shows no day-to-day variation, so this call assumes each click converts independently."
    return ""


def not_randomised_note(spec: TestSpec, v: Verdict) -> str:
    """Said once, of a verdict that acts on a difference, when the sheet plans no split for its test."""
    if spec.split is not None or v.code not in ("move_budget", "conflict", "no_difference"):
        return ""
    return (
        " The variants reach different people (no Split planned for this test), so this compares them per "
        f"{singular(spec.traffic_label)}, not as a controlled experiment."
    )


def summary(spec: TestSpec, arms: tuple[ArmTotals, ...], v: Verdict, context: TestContext) -> str:
    if v.reason == "broken_split":
        return (
            f"The traffic split looks broken ({_split(arms, spec.traffic_label)}, planned {_planned(spec.split)}; "
            f"p = {v.srm_p_value or 0:.1g}). Fix the split or the tracking, then restart the test."
        )
    if v.reason == "macro_against_micro":
        return _conflict(spec, v)
    if v.reason == "macro_winner":
        return _macro_winner(spec, v)
    if v.reason in ("macro_loser", "micro_loser"):
        return _back_to_control(spec, v)
    if v.reason == "micro_winner":
        return _micro_winner(spec, v)
    if v.reason == "poor_proxy":
        return _poor_proxy(spec, v)
    if v.code == "no_difference":
        return _no_difference(spec, arms, v, context)
    return _keep_running(spec, v, context)
