"""Private location text: an unmatched typed address moves to typed_address; a point's public place comes from its point

Until now a request filed at a point picked on the map, with a typed address that did not
match, kept the typed text in ``address``, and the status page, the nearby hints and
Open311 could show it (a name, a phone number). From now on that text is kept in
``typed_address`` (staff with requests.contact only) and ``address`` holds the point's
public place, derived from the address database as ``address_db.places.public_place``
does: "near the 200 block of N SPRING ST", "near X AT Y", "near N SPRING ST" or
"location picked on the map". The SQL below is a frozen copy of that derivation (a
migration must not change with the code); tests/service_requests/test_private_location.py checks that both
give the same text.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RADIUS_M = 150.0
NEUTRAL_PLACE = "location picked on the map"

CORRECT_POINT_REQUESTS = f"""
WITH fixed AS (
    SELECT r.id, r.address AS old,
           coalesce(near_address.place, near_street.place, '{NEUTRAL_PLACE}') AS place,
           -- what the code before wrote itself for a point with no typed address: 'near ' || the nearest address
           EXISTS (SELECT 1 FROM (SELECT n.standardized FROM address_point n WHERE n.city = r.city
                                  ORDER BY n.geom <-> r.geom LIMIT 5) n
                   WHERE 'near ' || n.standardized = r.address) AS written_by_code
    FROM service_request r
    LEFT JOIN LATERAL (
        SELECT CASE WHEN a.kind = 'intersection'
                    THEN 'near ' || concat_ws(' ', a.predir, a.street_name, a.suffix, a.postdir) || ' AT '
                         || concat_ws(' ', a.cross_predir, a.cross_name, a.cross_suffix, a.cross_postdir)
                    ELSE 'near the ' || (a.house_number / 100 * 100) || ' block of '
                         || concat_ws(' ', a.predir, a.street_name, a.suffix, a.postdir) END AS place
        FROM (SELECT * FROM address_point p
              WHERE p.city = r.city
                AND ((p.kind = 'intersection' AND p.cross_name IS NOT NULL) OR p.house_number >= 0)
              ORDER BY p.geom <-> r.geom LIMIT 8) a
        WHERE ST_DWithin(a.geom::geography, r.geom::geography, {RADIUS_M})
        ORDER BY ST_Distance(a.geom::geography, r.geom::geography), a.id LIMIT 1
    ) near_address ON true
    LEFT JOIN LATERAL (
        SELECT 'near ' || concat_ws(' ', s.predir, s.name, s.suffix, s.postdir) AS place
        FROM (SELECT * FROM street_segment t WHERE t.city = r.city AND t.name IS NOT NULL
              ORDER BY t.geom <-> r.geom LIMIT 8) s
        WHERE ST_DWithin(s.geom::geography, r.geom::geography, {RADIUS_M})
        ORDER BY ST_Distance(s.geom::geography, r.geom::geography), s.id LIMIT 1
    ) near_street ON true
    WHERE r.location_quality = 'point'
)
UPDATE service_request r
SET address = f.place,
    typed_address = CASE WHEN f.old IS NULL OR f.old = f.place OR f.written_by_code THEN r.typed_address
                         ELSE f.old END
FROM fixed f
WHERE r.id = f.id
"""


def upgrade() -> None:
    op.add_column("service_request", sa.Column("typed_address", sa.Text))
    op.execute(CORRECT_POINT_REQUESTS)


def downgrade() -> None:
    # The typed text goes back where it was; the derived places of the others stay (they are public anyway).
    op.execute("UPDATE service_request SET address = typed_address WHERE typed_address IS NOT NULL")
    op.drop_column("service_request", "typed_address")
