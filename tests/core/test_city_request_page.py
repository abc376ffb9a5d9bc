"""The city file's keys for the staff request page: candidate duplicates and reply templates."""

from __future__ import annotations

import pytest

from core.city import load_city
from core.errors import ConfigError
from core.replies_file import DEFAULT_REPLY_TEMPLATES
from tests.core.test_city_config import MINIMAL, write_city

SERVICE = (
    '[[departments]]\ncode = "PW"\nname = "Public Works"\n[[services]]\ncode = "graffiti"\nname = "Graffiti"\ndepartment = "PW"\n'
    "service_level = { hours = 48 }\n"
)


def test_defaults_when_the_city_sets_none(tmp_path):
    city = load_city("testville", write_city(tmp_path, MINIMAL), tmp_path)
    assert (city.intake.candidate_radius_m, city.intake.candidate_days) == (200, 30)
    assert city.reply_templates == DEFAULT_REPLY_TEMPLATES


def test_the_city_sets_them(tmp_path):
    body = (
        MINIMAL
        + "[intake]\ncandidate_radius_m = 80\ncandidate_days = 7\n"
        + SERVICE
        + '[[reply_templates]]\nname = "Done"\nservices = ["graffiti"]\nstatuses = ["fixed"]\ntext = "{reference} done at {address}."\n'
    )
    city = load_city("testville", write_city(tmp_path, body), tmp_path)
    assert (city.intake.candidate_radius_m, city.intake.candidate_days) == (80, 7)
    (template,) = city.reply_templates
    assert template.fits("graffiti", "fixed") and not template.fits("graffiti", "submitted")


@pytest.mark.parametrize(
    "extra,message",
    [
        ("[intake]\ncandidate_radius_m = 0\n", r"candidate_radius_m must be a positive number"),
        ('[intake]\ncandidate_days = "a week"\n', r"candidate_days must be a positive number"),
        ('[[reply_templates]]\ntext = "Hi"\n', r"\[reply_templates #1\] needs name"),
        ('[[reply_templates]]\nname = "A"\n', r"\(A\) needs text"),
        ('[[reply_templates]]\nname = "A"\ntext = "Hi {name}"\n', r"names \{name\}; use \{reference\}"),
        ('[[reply_templates]]\nname = "A"\ntext = "Hi {"\n', r"broken placeholder"),
        ('[[reply_templates]]\nname = "A"\ntext = "Hi"\nservices = ["pothole"]\n', r"names service 'pothole'"),
        ('[[reply_templates]]\nname = "A"\ntext = "Hi"\nstatuses = ["closed"]\n', r"names status 'closed'; use one of"),
        ('[[reply_templates]]\nname = "A"\ntext = "Hi"\nwhen = 1\n', r"does not know 'when'"),
        (
            '[[reply_templates]]\nname = "A"\ntext = "Hi"\n[[reply_templates]]\nname = "A"\ntext = "Ho"\n',
            "two templates",
        ),
        ('[reply_templates]\nname = "A"\n', r"\[\[reply_templates\]\] tables"),
    ],
)
def test_mistakes_are_named(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_city("testville", write_city(tmp_path, MINIMAL + SERVICE + extra), tmp_path)
