"""The activity feed's sentences: names not ids, labels not keys, values formatted by their field's
type, archived records still named, hostile names kept as data; and paging that neither skips nor
repeats an event."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.importers import airtable

HOSTILE = '<img src=x onerror="window.__xss=1">'


@pytest.fixture
def alice(ctx: Context) -> Context:
    """Alice's context, as a team member with a display name (the feed names her by it)."""
    user = services.create_user(ctx, "alice@fund.example", "Alice", "admin")
    return ctx.as_user(user)


def newest(ctx: Context, **filters: object) -> dict:
    return services.activity(ctx, limit=1, **filters)[0]


def test_a_cell_edit_reads_as_a_sentence_with_names_labels_and_values(alice: Context) -> None:
    acme = services.create_investor(alice, {"name": "Acme Capital", "location": "Boston"})
    services.update_field(alice, acme["id"], "location", "New York", expected_version=1)
    event = newest(alice)
    assert event["sentence"] == "Alice changed Location of Acme Capital from Boston to New York"
    assert {k: event[k] for k in ("actor_name", "verb", "target_name", "field_label")} == {
        "actor_name": "Alice",
        "verb": "changed",
        "target_name": "Acme Capital",
        "field_label": "Location",
    }
    assert (event["old_text"], event["new_text"]) == ("Boston", "New York")
    assert event["investor_id"] == acme["id"] and event["investor_name"] == "Acme Capital"
    investor_part = next(p for p in event["parts"] if p["role"] == "investor")
    assert investor_part == {
        "text": "Acme Capital",
        "role": "investor",
        "investor_id": acme["id"],
        "archived": False,
    }
    assert "".join(p["text"] for p in event["parts"]) == event["sentence"]
    assert event["summary"] == f"investor {acme['id']}: location Boston → New York"  # scripts'


@pytest.mark.parametrize(
    ("field", "before", "after", "sentence_end"),
    [
        ("list_membership", "main", "follow_up", "List of Acme from Main to Follow-up"),
        ("last_contacted_at", None, "2026-11-20", "Last contacted of Acme to Nov 20, 2026"),
        ("tags", ["AI"], ["AI", "Seed"], "Tags of Acme from AI to AI, Seed"),
        ("status", "Meeting", None, "Status of Acme (was Meeting)"),
        ("website", None, "https://acme.example", "Website of Acme to https://acme.example"),
    ],
)
def test_values_read_by_their_field_type(
    alice: Context, field: str, before: object, after: object, sentence_end: str
) -> None:
    values = {"name": "Acme", **({field: before} if before is not None else {})}
    acme = services.create_investor(alice, values)
    services.update_field(alice, acme["id"], field, after, expected_version=1)
    sentence = newest(alice)["sentence"]
    assert sentence.endswith(sentence_end), sentence
    assert sentence.startswith(
        "Alice changed"
        if before is not None and after is not None
        else "Alice set"
        if before is None
        else "Alice cleared"
    )


def test_an_owner_is_named_and_an_amount_has_its_currency(alice: Context, fund: dict) -> None:
    bob = services.create_user(alice, "bob@fund.example", "Bob Stone", "member")
    acme = services.create_investor(alice, {"name": "Acme"})
    services.update_field(alice, acme["id"], "owner_id", bob["id"], expected_version=1)
    assert newest(alice)["sentence"] == "Alice set Owner of Acme to Bob Stone"
    made = services.set_commitment(alice, acme["id"], fund["id"], 5_000_000)
    assert newest(alice)["sentence"] == (
        "Alice recorded a commitment of $5,000,000 from Acme to Fund III"
    )
    services.set_commitment(
        alice, acme["id"], fund["id"], 7_500_000.5, expected_version=made["version"]
    )
    event = newest(alice, kinds=("change",))
    assert event["sentence"] == (
        "Alice changed Amount of Acme's commitment to Fund III from $5,000,000 to $7,500,000.50"
    )
    assert event["investor_id"] == acme["id"]


def test_people_are_added_to_and_removed_from_their_investor(alice: Context) -> None:
    acme = services.create_investor(alice, {"name": "Acme Capital"})
    jane = services.add_person(alice, acme["id"], {"full_name": "Jane Doe", "title": "CIO"})
    assert newest(alice)["sentence"] == "Alice added Jane Doe to Acme Capital"
    services.update_person(alice, jane["id"], {"title": "CEO"}, expected_version=jane["version"])
    assert (
        newest(alice)["sentence"]
        == "Alice changed Title of Jane Doe at Acme Capital from CIO to CEO"
    )
    services.remove_person(alice, jane["id"], expected_version=jane["version"] + 1)
    event = newest(alice)
    assert event["sentence"] == "Alice removed Jane Doe from Acme Capital"
    assert event["investor_id"] == acme["id"]  # the person's investor: the link opens it


def test_renaming_a_field_shows_its_new_label_in_earlier_events(alice: Context) -> None:
    warmth = services.add_field(alice, "Warmth", "text", {})
    acme = services.create_investor(alice, {"name": "Acme"})
    services.update_field(alice, acme["id"], warmth.key, "warm", expected_version=1)
    services.rename_field(alice, warmth.key, "Temperature", expected_version=warmth.version)
    events = services.activity(alice, kinds=("change",))
    assert events[0]["sentence"] == "Alice renamed the field Warmth to Temperature"
    edit = next(e for e in events if e["field"] == warmth.key)
    assert edit["field_label"] == "Temperature"
    assert edit["sentence"] == "Alice set Temperature of Acme to warm"


def test_an_archived_investor_is_still_named_and_marked(alice: Context) -> None:
    acme = services.create_investor(alice, {"name": "Acme Capital", "location": "Oslo"})
    services.update_field(alice, acme["id"], "location", "Bergen", expected_version=1)
    services.archive_investor(alice, acme["id"], expected_version=2)
    events = services.activity(alice, investor_id=acme["id"])
    assert [e["sentence"] for e in events] == [
        "Alice archived Acme Capital",
        "Alice changed Location of Acme Capital from Oslo to Bergen",
        "Alice added Acme Capital to Main",
    ]
    assert all(e["investor_name"] == "Acme Capital" and e["investor_archived"] for e in events)
    found = services.activity_investors(alice, "acme")
    assert found == [{"id": acme["id"], "name": "Acme Capital", "archived": True}]


def test_hostile_names_stay_data_in_the_sentence(alice: Context) -> None:
    investor = services.create_investor(alice, {"name": HOSTILE})
    services.update_field(alice, investor["id"], "notes", HOSTILE, expected_version=1)
    event = newest(alice)
    assert event["sentence"] == f"Alice set Notes of {HOSTILE} to {HOSTILE}"
    assert event["target_name"] == HOSTILE and event["new_text"] == HOSTILE


def test_a_bulk_write_reads_as_a_count_and_its_range(alice: Context, fund: dict) -> None:
    records = [
        {"name": f"LP {i}", "people": [{"full_name": f"P {i}"}], "commitments": []}
        for i in range(3)
    ]
    result = services.bulk_create_investors(alice, records)
    sentences = [e["sentence"] for e in services.activity(alice, kinds=("change",))]
    first, last = result.first_investor_id, result.last_investor_id
    assert f"Alice created 3 investors (ids {first} to {last})" in sentences
    assert "Alice created 3 people (ids 1 to 3)" in sentences
    [one] = services.activity(alice, investor_id=first + 1, kinds=("change",), limit=1)
    assert one["sentence"].startswith("Alice created 3 people")  # newest range holding it


def test_an_import_is_one_event_and_its_rows_fold_into_it(alice: Context, tmp_path: Path) -> None:
    csv = tmp_path / "lps.csv"
    csv.write_text("Name,Location\nNorth LP,Oslo\nSouth LP,Rome\n")
    report = airtable.run(
        csv,
        alice,
        mapping={"Name": "field:name", "Location": "field:location"},
        file_name="Investors-Grid view.csv",
    )
    assert report.committed
    feed = services.activity(alice)
    assert [e["sentence"] for e in feed] == [
        "Alice imported Investors-Grid view.csv: 2 created, 0 updated"
    ]
    north = next(r for r in services.list_investors(alice).rows if r["name"] == "North LP")
    assert services.activity(alice, investor_id=north["id"])  # the investor's feed has it
    assert services.activity(alice, kinds=("change",))  # and so do record changes alone


def test_backups_and_system_actors_are_named(alice: Context) -> None:
    services.create_backup(alice)
    event = newest(alice)
    assert event["sentence"].startswith("Alice took a backup (backup 1, ")
    assert event["sentence"].endswith(", verified)")
    for actor, name in [
        ("system:job:nightly_backup", "The scheduler"),
        ("system:demo", "Demo data"),
        ("system:test", "The system"),
        ("gone@fund.example", "gone@fund.example"),  # no such user: the label it left
    ]:
        services.create_investor(alice.as_actor(actor), {"name": f"Made by {actor}"})
        assert newest(alice)["actor_name"] == name


def test_load_more_neither_skips_nor_repeats(ctx: Context, clock: FixedClock) -> None:
    """Events of one moment (one transaction writes many) page through a cursor that orders
    them completely, across kinds too."""
    acme = services.create_investor(ctx, {"name": "Acme"})
    services.update_investor(
        ctx,
        acme["id"],
        {"location": "Oslo", "notes": "n", "status": "Meeting", "website": "https://a.example"},
        expected_version=1,
    )
    services.create_backup(ctx)  # the same moment (the clock stands still): another kind
    clock.advance(seconds=1)
    services.create_investor(ctx, {"name": "Later"})
    everything = services.activity(ctx, limit=100)
    assert len(everything) == 7
    pages, before = [], None
    while True:
        page = services.activity(ctx, limit=2, before=before)
        if not page:
            break
        pages += page
        before = page[-1]["cursor"]
    assert [e["cursor"] for e in pages] == [e["cursor"] for e in everything]
    assert len({e["cursor"] for e in pages}) == 7


@pytest.mark.parametrize("cursor", ["yesterday", "2026-11-25T09:00:00|9|1", "x|0|1", "' OR 1=1"])
def test_a_cursor_the_feed_did_not_give_is_refused(ctx: Context, cursor: str) -> None:
    with pytest.raises(ValidationError) as raised:
        services.activity(ctx, before=cursor)
    assert raised.value.field == "before"


def test_the_people_filter_offers_team_members_by_name(alice: Context) -> None:
    services.create_user(alice, "bob@fund.example", "Bob", "member")
    assert services.activity_people(alice) == [
        {"actor": "alice@fund.example", "name": "Alice"},
        {"actor": "bob@fund.example", "name": "Bob"},
    ]
