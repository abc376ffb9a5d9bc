"""Phone numbers and e-mail addresses as links (app/web/contact_links.py)."""

from __future__ import annotations

from app.web.contact_links import mailto_link, tel_link


def test_each_phone_number_in_a_text_is_a_tel_link_and_the_rest_is_escaped():
    assert str(tel_link("311 (outside the city: (213) 473-3231)")) == (
        '<a class="tel" href="tel:311">311</a> (outside the city: '
        '<a class="tel" href="tel:2134733231">(213) 473-3231</a>)'
    )
    assert (
        str(tel_link("+1 310 217 9500 <b>")) == '<a class="tel" href="tel:+13102179500">+1 310 217 9500</a> &lt;b&gt;'
    )
    assert str(tel_link("ext 12")) == "ext 12"  # two digits are no phone number
    assert str(tel_link(None)) == ""


def test_an_address_is_a_mailto_link_and_anything_else_stays_text():
    assert str(mailto_link("ana@example.org")) == '<a class="mailto" href="mailto:ana@example.org">ana@example.org</a>'
    assert str(mailto_link('"><script>@x')) == (
        '<a class="mailto" href="mailto:&#34;&gt;&lt;script&gt;@x">&#34;&gt;&lt;script&gt;@x</a>'
    )
    assert str(mailto_link("no address")) == "no address"
    assert str(mailto_link(None)) == ""
