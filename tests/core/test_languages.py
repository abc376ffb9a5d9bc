"""The city's languages and the catalogue's translations, as the city file gives them: read, and mistakes named."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.catalogue_file import ServiceLevel, parse_service
from core.city import load_city
from core.errors import ConfigError
from core.i18n import catalogue_languages, language_name, offered_languages, translations
from tests.core.test_city_config import MINIMAL, write_city

SERVICE = {
    "code": "graffiti",
    "name": "Graffiti Removal",
    "group": "Beautification",
    "description": "Removal of graffiti.",
    "department": "OCB",
    "service_level": {"hours": 48},
    "attributes": [
        {
            "code": "surface",
            "description": "Where is the graffiti?",
            "datatype": "singlevaluelist",
            "values": [{"key": "wall", "name": "Building wall"}, {"key": "fence", "name": "Fence"}],
        }
    ],
}


def fail(table: str, message: str) -> ConfigError:
    return ConfigError(f"[{table}] {message}")


def test_a_city_lists_its_languages_default_first(tmp_path):
    assert load_city("testville", write_city(tmp_path, MINIMAL), tmp_path).languages == ("en",)
    body = MINIMAL.replace('projected_crs = "EPSG:26915"', 'projected_crs = "EPSG:26915"\nlanguages = ["es", "en"]')
    assert load_city("testville", write_city(tmp_path, body), tmp_path).languages == ("es", "en")


@pytest.mark.parametrize(
    "languages,message",
    [
        ('["en", "Spanish"]', "'Spanish' is not a language code"),
        ('["en", "qq"]', "'qq' is not a language Babel knows"),
        ('["en", "es", "es"]', "lists a language twice"),
        ("[]", "must be a list of language codes"),
        ('"es"', "must be a list of language codes"),
    ],
)
def test_an_unknown_language_is_refused_with_a_sentence(tmp_path, languages, message):
    body = MINIMAL.replace('projected_crs = "EPSG:26915"', f'projected_crs = "EPSG:26915"\nlanguages = {languages}')
    with pytest.raises(ConfigError, match=message):
        load_city("testville", write_city(tmp_path, body), tmp_path)


def test_the_languages_offered_are_the_citys_with_a_catalogue(tmp_path):
    assert "es" in catalogue_languages()
    assert offered_languages(["en", "es"]) == ("en", "es")
    assert offered_languages(["es", "en"]) == ("es", "en")
    assert offered_languages(["en", "fr"]) == ("en",)  # no French catalogue: not offered
    assert offered_languages(["en", "es"], tmp_path) == ("en",)  # a folder without catalogues
    assert language_name("es") == "Español" and language_name("en") == "English"


def test_a_service_translates_its_words_never_its_codes():
    entry = {
        **SERVICE,
        "translations": {
            "es": {
                "name": "Eliminación de grafiti",
                "keywords": ["pintas"],
                "attributes": {"surface": {"description": "¿Dónde está?", "values": {"wall": "Pared"}}},
            }
        },
    }
    service = parse_service(entry, {"OCB"}, fail)
    spanish = service.in_language("es")
    assert (spanish.code, spanish.name, spanish.group, spanish.keywords) == (
        "graffiti",
        "Eliminación de grafiti",
        "Beautification",  # not translated: the default language's
        ("pintas",),
    )
    assert spanish.attributes[0].description == "¿Dónde está?"
    assert [(v.key, v.name) for v in spanish.attributes[0].values] == [("wall", "Pared"), ("fence", "Fence")]
    assert service.in_language("fr") is service and service.in_language(None) is service
    assert parse_service(service.as_entry(), {"OCB"}, fail) == service


@pytest.mark.parametrize(
    "translations,message",
    [
        ({"Spanish": {"name": "x"}}, "'Spanish' is not a language code"),
        ({"es": {"nombre": "x"}}, "unknown key\\(s\\) nombre"),
        ({"es": {"name": ""}}, "must be a text that is not empty"),
        ({"es": {"attributes": {"colour": {"description": "x"}}}}, "attribute 'colour', which the service does not"),
        ({"es": {"attributes": {"surface": {"values": {"roof": "Techo"}}}}}, "answer 'roof', which is not among"),
        ({"es": {"attributes": {"surface": {"datatype": "string"}}}}, "unknown key\\(s\\) datatype"),
        ({"es": {"keywords": "pintas"}}, "keywords must be a list"),
        ("es", "translations must be a table of languages"),
    ],
)
def test_a_wrong_translation_is_refused_with_what_to_fix(translations, message):
    with pytest.raises(ConfigError, match=message):
        parse_service({**SERVICE, "translations": translations}, {"OCB"}, fail)


def test_every_la_service_question_and_answer_has_its_spanish(settings):
    la = load_city("la", settings.cities_dir, settings.data_dir)
    assert la.languages == ("en", "es")
    for service in la.catalogue.services.values():
        words = service.translations.get("es")
        assert words and {"name", "group", "description", "keywords"} <= set(words), service.code
        for attribute in service.attributes:
            question = words.get("attributes", {}).get(attribute.code, {})
            assert question.get("description"), (service.code, attribute.code)
            assert set(question.get("values", {})) == {v.key for v in attribute.values}, (service.code, attribute.code)


def test_the_domain_translates_without_flask():
    spanish = translations("es")
    assert spanish.gettext("Language") == "Idioma"
    assert translations("en").gettext("Language") == "Language" == translations(None).gettext("Language")
    assert translations("es", Path("/nonexistent")).gettext("Language") == "Language"
    assert ServiceLevel(business_days=1).describe_in(spanish.ngettext) == "1 día hábil"
    assert ServiceLevel(business_days=5).describe_in(spanish.ngettext) == "5 días hábiles"
    assert ServiceLevel(hours=48).describe_in(translations("en").ngettext) == "48 hours"
