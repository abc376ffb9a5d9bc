"""The call-taker's flow: service search, channel per shift, skip link, after-save, add this caller, caller history."""

from __future__ import annotations

import re

from sqlalchemy import select

from service_requests.followers import followers_of
from service_requests.models import RequestEvent, ServiceRequest

GRAFFITI = {"address": "2111 W Bellevue Ave", "attribute[surface]": "wall", "description": "Tags"}


def test_the_search_finds_services_by_keyword_without_javascript(client_as):
    staff = client_as("intake")
    page = staff.get("/intake/new?q=couch").get_data(as_text=True)
    assert "Bulky Items" in page and "Graffiti" not in page
    assert 'id="service-search"' in page and "autofocus" in page
    assert 'value="couch"' in page
    assert "Graffiti Removal" in staff.get("/intake/new?q=tagging").get_data(as_text=True)
    none = staff.get("/intake/new?q=zzzz").get_data(as_text=True)
    assert "0 services" in none and "see them all" in none
    assert staff.get("/intake/new?q=" + "x" * 5000).status_code == 200  # long input: no error


def test_the_search_script_is_served_and_every_service_carries_its_keywords(client_as):
    staff = client_as("intake")
    page = staff.get("/intake/new").get_data(as_text=True)
    assert 'src="/static/intake-search.js"' in page
    assert re.search(r'data-name="Bulky Items[^"]*" data-keywords="[^"]*couch', page)
    assert staff.get("/static/intake-search.js").status_code == 200
    assert "<script>" not in page.replace('<script src="', "")  # no inline script


def test_the_residents_catalogue_searches_too(client):
    assert "Bulky Items" in client.get("/report?q=mattress").get_data(as_text=True)


def test_the_channel_is_chosen_once_per_shift(client_as, session):
    staff = client_as("intake")
    form = staff.get("/intake/new/graffiti").get_data(as_text=True)
    assert "Channel for this shift: <strong>Phone</strong>" in form
    assert 'name="channel"' not in form  # no select to tab through on every call
    assert form.index('id="address-input"') < form.index('id="first_name"')  # the address first
    assert "autofocus" in form[form.index('id="address-input"') :][:600]
    assert staff.post("/intake/channel", data={"channel": "nonsense"}).status_code == 400
    assert staff.post("/intake/channel", data={"channel": "walk_in"}).status_code == 303
    assert "Channel for this shift: <strong>Walk-in</strong>" in staff.get("/intake/new").get_data(as_text=True)
    response = staff.post("/intake/new/graffiti", data={**GRAFFITI, "channel": "phone"})  # a stray field is ignored
    short = re.search(r"/staff/requests/([0-9A-Z]+)$", response.headers["Location"]).group(1)
    assert session.scalar(select(ServiceRequest.channel).where(ServiceRequest.short_ref == short)) == "walk_in"


def test_after_saving_staff_land_on_the_record_with_the_reference_and_next_call(client_as, session):
    staff = client_as("intake")
    response = staff.post("/intake/new/graffiti", data=GRAFFITI)
    assert response.status_code == 303
    short = re.search(r"/staff/requests/([0-9A-Z]+)$", response.headers["Location"]).group(1)
    record = staff.get(response.headers["Location"]).get_data(as_text=True)
    shown = f"{short[:5]}-{short[5:]}"
    assert f'<p class="call-reference" id="call-reference">{shown}</p>' in record
    assert 'id="next-call" href="/intake/new"' in record
    assert "call-reference" not in staff.get(response.headers["Location"]).get_data(as_text=True)  # shown once
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.short_ref == short))
    assert request.channel == "phone"


def test_a_resident_still_gets_the_thank_you_page_with_the_short_reference(client, session):
    response = client.post("/report/graffiti", data=GRAFFITI)
    location = response.headers["Location"]
    assert "/status/" in location and "new=1" in location
    page = client.get(location).get_data(as_text=True)
    request = session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()).limit(1))
    assert "Thank you" in page and request.short_ref_shown in page


def test_the_status_lookup_takes_the_short_reference(client, session):
    client.post("/report/graffiti", data=GRAFFITI)
    request = session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()).limit(1))
    typed = request.short_ref.lower().replace("0", "o").replace("1", "i")
    response = client.post("/status", data={"reference": typed})
    assert response.status_code == 303 and response.headers["Location"].endswith(request.public_ref)
    assert client.get(f"/status/{request.short_ref_shown}").status_code == 200
    missing = client.post("/status", data={"reference": "ZZZZZ-ZZZZZ"})
    assert missing.status_code == 400 and "No request has that reference" in missing.get_data(as_text=True)
    assert client.post("/status", data={"reference": "hello"}).status_code == 400


def test_staff_find_a_record_by_its_short_reference(client, client_as, session):
    client.post("/report/graffiti", data=GRAFFITI)
    request = session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()).limit(1))
    staff = client_as("intake")
    assert staff.get(f"/staff/requests/{request.short_ref.lower()}").status_code == 200
    assert staff.get(f"/staff/requests/{request.short_ref_shown}").status_code == 200


def test_add_this_caller_to_that_request(client_as, session):
    staff = client_as("intake")
    first = staff.post("/intake/new/graffiti", data=GRAFFITI)
    short = re.search(r"/staff/requests/([0-9A-Z]+)$", first.headers["Location"]).group(1)
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.short_ref == short))
    before = session.scalar(select(ServiceRequest.id).order_by(ServiceRequest.id.desc()).limit(1))
    added = staff.post(
        "/intake/new/graffiti",
        data={
            **GRAFFITI,
            "follow": request.public_ref,
            "first_name": "Ben",
            "phone": "213 555 0199",
            "response_method": "phone",
        },
    )
    assert added.status_code == 303 and added.headers["Location"].endswith(short)
    page = staff.get(added.headers["Location"]).get_data(as_text=True)
    assert f"Added to {request.short_ref_shown}" in page and 'id="next-call"' in page
    assert session.scalar(select(ServiceRequest.id).order_by(ServiceRequest.id.desc()).limit(1)) == before
    session.expire_all()
    assert [f.phone for f in followers_of(session, request.id)] == ["213 555 0199"]
    assert (
        "reported_again"
        in session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == request.id)).all()
    )
    refused = staff.post(
        "/intake/new/graffiti", data={**GRAFFITI, "follow": request.public_ref, "response_method": "email"}
    )
    assert refused.status_code == 400 and "e-mail" in refused.get_data(as_text=True)
    gone = staff.post("/intake/new/graffiti", data={**GRAFFITI, "follow": "ZZZZZ-ZZZZZ"})
    assert gone.status_code == 400 and "not open" in gone.get_data(as_text=True)


def test_nearby_hints_link_staff_to_the_staff_record_and_residents_to_the_public_page(client, client_as, session):
    staff = client_as("intake")
    staff.post("/intake/new/graffiti", data=GRAFFITI)
    request = session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()).limit(1))
    lon, lat = session.scalars(select(ServiceRequest.geom.ST_X()).where(ServiceRequest.id == request.id)).one(), None
    lat = session.scalars(select(ServiceRequest.geom.ST_Y()).where(ServiceRequest.id == request.id)).one()
    url = f"/api/requests/nearby?service=graffiti&lon={lon}&lat={lat}"
    mine = [n for n in staff.get(url + "&staff=1").get_json()["nearby"] if n["reference"] == request.public_ref][0]
    assert mine["url"] == f"/staff/requests/{request.short_ref}" and mine["requested"] and mine["lon"] is not None
    public = [n for n in client.get(url).get_json()["nearby"] if n["reference"] == request.public_ref][0]
    assert public["url"] == f"/status/{request.public_ref}"


def test_caller_history_for_staff_with_the_contact_permission_only(client, client_as, session):
    staff = client_as("intake")
    staff.post("/intake/new/graffiti", data={**GRAFFITI, "phone": "(213) 555-0142", "first_name": "Ana"})
    found = staff.get("/api/callers/history?phone=213.555.0142").get_json()["requests"]
    assert len(found) >= 1 and found[0]["service"] == "Graffiti Removal" and found[0]["url"].startswith("/staff/")
    assert staff.get("/api/callers/history?phone=1").get_json() == {"requests": []}
    assert 'id="caller-history"' in staff.get("/intake/new/graffiti").get_data(as_text=True)
    assert client_as("planner").get("/api/callers/history?phone=2135550142").status_code == 403
    assert client.get("/api/callers/history?phone=2135550142").status_code in (302, 401, 403)
    assert 'id="caller-history"' not in client.get("/report/graffiti").get_data(as_text=True)


def test_every_page_has_a_skip_link(app, client_as):
    admin = client_as("admin")
    pages = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.rule.startswith(("/api", "/static", "/open311")):
            continue
        response = admin.get(rule.rule)
        if response.status_code != 200 or response.mimetype != "text/html" or "site-header" not in response.text:
            continue
        page = response.get_data(as_text=True)
        assert '<a class="skip-link" href="#main">Skip to main content</a>' in page, rule.rule
        assert '<main id="main"' in page, rule.rule
        pages += 1
    assert pages >= 15
    assert "skip-link" in admin.get("/intake/new/graffiti").get_data(as_text=True)
