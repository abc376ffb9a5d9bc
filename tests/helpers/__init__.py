"""Helpers shared by the tests (not tests themselves): staff logins, browsers, fixture cities, synthetic maps, street data, tile files."""
