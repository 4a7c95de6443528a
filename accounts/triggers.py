"""PostgreSQL triggers: a birthdate changes only through an applied birthdate-change request, and a
stored safety setting never exceeds its user's tier ceiling (the second from version 1 of the
settings ceiling below, issue 11.5).

POLICY.md §4: nobody edits a birthdate in place. The manager's sanctioned path sets the transaction
setting `safety_portal.birthdate_request` to the id of the request it applies; the trigger checks that
such a request exists for this user, with this new date, in an applied or approved state. Anything
else — `QuerySet.update()`, raw SQL, an admin form — is refused by the database.
"""

from __future__ import annotations

from safety_portal import rules

# Version 1 (migration 0002). Kept as it was so that migration replays the same SQL forever.
CREATE = """
CREATE OR REPLACE FUNCTION accounts_guard_birthdate() RETURNS trigger AS $$
DECLARE
    sanctioned text := current_setting('safety_portal.birthdate_request', true);
BEGIN
    IF NEW.birthdate IS DISTINCT FROM OLD.birthdate THEN
        IF sanctioned IS NULL OR sanctioned !~ '^[0-9]+$' OR NOT EXISTS (
            SELECT 1 FROM accounts_birthdatechangerequest r
            WHERE r.id = sanctioned::bigint
              AND r.user_id = NEW.id
              AND r.new_birthdate = NEW.birthdate
              AND r.status IN ('applied', 'approved')
        ) THEN
            RAISE EXCEPTION 'the birthdate of user % changes only through an applied birthdate-change request', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_user_birthdate_guard
    BEFORE UPDATE OF birthdate ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION accounts_guard_birthdate();
"""

DROP = """
DROP TRIGGER IF EXISTS accounts_user_birthdate_guard ON accounts_user;
DROP FUNCTION IF EXISTS accounts_guard_birthdate();
"""

# Version 2 (migration 0005): the request must also start from the birthdate being replaced, so an
# old applied request cannot be replayed to set a date back after a later correction.
GUARD_FUNCTION_V2 = """
CREATE OR REPLACE FUNCTION accounts_guard_birthdate() RETURNS trigger AS $$
DECLARE
    sanctioned text := current_setting('safety_portal.birthdate_request', true);
BEGIN
    IF NEW.birthdate IS DISTINCT FROM OLD.birthdate THEN
        IF sanctioned IS NULL OR sanctioned !~ '^[0-9]+$' OR NOT EXISTS (
            SELECT 1 FROM accounts_birthdatechangerequest r
            WHERE r.id = sanctioned::bigint
              AND r.user_id = NEW.id
              AND r.old_birthdate = OLD.birthdate
              AND r.new_birthdate = NEW.birthdate
              AND r.status IN ('applied', 'approved')
        ) THEN
            RAISE EXCEPTION 'the birthdate of user % changes only through an applied birthdate-change request', NEW.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

# Going back to version 1 restores its function body; the trigger itself is unchanged.
GUARD_FUNCTION_V1 = CREATE[: CREATE.index("CREATE TRIGGER")]


# -- Version 1 of the settings ceiling (migration 0012) -------------------------------------------
# POLICY.md §3, §7.4 (issue 11.5): a stored SafetySettings row never holds a value above its user's
# tier ceiling. The SQL is *generated* from `rules.safety_settings.ceiling` and `rules.ages` (one
# rule, one place); the migration keeps the text it ran, and `tests/accounts/test_settings_ceiling_
# trigger.py` fails when the rules and the latest migrated text part ("rules changed: write a
# migration that re-creates the trigger").

SETTINGS_CEILING_CONSTRAINT = "accounts_settings_within_tier_ceiling"


def _sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def _tier_case(birthdate: str) -> str:
    """A CASE expression giving the tier of `birthdate` on CURRENT_DATE (POLICY.md §1).

    `birthdate <= CURRENT_DATE - N years` is exactly "at least N on CURRENT_DATE": PostgreSQL takes
    29 February back to 28 February in a non-leap year, as `rules.ages.latest_birthdate_for_age`
    does (D2). An unknown birthdate reads as a child: the strictest ceiling.
    """
    Tier = rules.vocabulary.Tier
    lines = [f"CASE WHEN {birthdate} IS NULL THEN '{Tier.CHILD.value}'"]
    for tier in (Tier.ADULT, Tier.OLDER_TEEN, Tier.YOUNG_TEEN):
        youngest, _ = rules.ages.tier_ages(tier)
        lines.append(
            f"WHEN {birthdate} <= (CURRENT_DATE - interval '{youngest} years')::date "
            f"THEN '{tier.value}'"
        )
    lines.append(f"ELSE '{Tier.CHILD.value}' END")
    return "\n            ".join(lines)


def _breach_case(row: str, tier: str) -> str:
    """A CASE expression naming the first setting of `row` above the ceiling of `tier`, or NULL."""
    whens = []
    for t in rules.vocabulary.Tier:
        ceiling = rules.safety_settings.ceiling(t)
        for name in rules.safety_settings.SETTING_NAMES:
            refused = rules.safety_settings.values_looser_than(name, getattr(ceiling, name))
            if refused:
                values = ", ".join(_sql_literal(v) for v in refused)
                whens.append(
                    f"WHEN {tier} = '{t.value}' AND {row}.{name} IN ({values}) THEN '{name}'"
                )
    return "CASE\n            " + "\n            ".join(whens) + "\n            ELSE NULL END"


def render_settings_ceiling_sql() -> str:
    """The SQL of the settings ceiling, generated from the rules in force in this code.

    - `accounts_settings_breach(birthdate, row)`: the first setting above the tier ceiling, or NULL.
    - BEFORE INSERT OR UPDATE on a settings row: refused when it breaches its user's ceiling today.
    - A deferred constraint trigger on a birthdate change: at commit, the user's settings row must
      fit the ceiling of the new birthdate. The sanctioned correction (`_apply`) writes the
      birthdate and then moves the settings within the new tier in the same transaction, so the
      order of those two writes does not matter; a raw UPDATE that makes a user younger without
      the move is refused at commit. Erasure (a NULL birthdate, closed accounts only) is not
      checked here: nothing reads a closed account's settings again.

    Only the tier ceiling is the database's: a guardian's stricter limits (POLICY.md §5) and the
    13-15 "public only with a guardian's approval" rule (§7.4) stay in Python, because they depend
    on links and approvals that change on their own and only ever tighten what the effective value
    is (`rules.capabilities`).
    """
    settings_cols = ", ".join(rules.safety_settings.SETTING_NAMES)
    return f"""
CREATE OR REPLACE FUNCTION accounts_settings_breach(
    birthdate date, s accounts_safetysettings
) RETURNS text AS $$
    SELECT {_breach_case("s", "tier")}
    FROM (SELECT {_tier_case("birthdate")} AS tier) AS t;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION accounts_guard_settings_ceiling() RETURNS trigger AS $$
DECLARE
    bd date;
    breach text;
BEGIN
    SELECT u.birthdate INTO bd FROM accounts_user u WHERE u.id = NEW.user_id;
    breach := accounts_settings_breach(bd, NEW);
    IF breach IS NOT NULL THEN
        RAISE EXCEPTION 'safety settings of user %: % is above the tier ceiling', NEW.user_id, breach
            USING ERRCODE = 'check_violation', CONSTRAINT = '{SETTINGS_CEILING_CONSTRAINT}';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_settings_ceiling_guard
    BEFORE INSERT OR UPDATE OF user_id, {settings_cols} ON accounts_safetysettings
    FOR EACH ROW EXECUTE FUNCTION accounts_guard_settings_ceiling();

CREATE OR REPLACE FUNCTION accounts_check_settings_after_birthdate() RETURNS trigger AS $$
DECLARE
    s accounts_safetysettings;
    bd date;
    breach text;
BEGIN
    -- Deferred to the commit: read the rows as they are then, not as this UPDATE left them.
    SELECT * INTO s FROM accounts_safetysettings WHERE user_id = NEW.id;
    SELECT u.birthdate INTO bd FROM accounts_user u WHERE u.id = NEW.id;
    IF FOUND AND s.user_id IS NOT NULL AND bd IS NOT NULL THEN
        breach := accounts_settings_breach(bd, s);
        IF breach IS NOT NULL THEN
            RAISE EXCEPTION 'user %: after the birthdate change, % is above the tier ceiling', NEW.id, breach
                USING ERRCODE = 'check_violation', CONSTRAINT = '{SETTINGS_CEILING_CONSTRAINT}';
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER accounts_user_settings_ceiling_check
    AFTER UPDATE OF birthdate ON accounts_user
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.birthdate IS NOT NULL AND NEW.birthdate IS DISTINCT FROM OLD.birthdate)
    EXECUTE FUNCTION accounts_check_settings_after_birthdate();
"""


SETTINGS_CEILING_DROP = """
DROP TRIGGER IF EXISTS accounts_user_settings_ceiling_check ON accounts_user;
DROP FUNCTION IF EXISTS accounts_check_settings_after_birthdate();
DROP TRIGGER IF EXISTS accounts_settings_ceiling_guard ON accounts_safetysettings;
DROP FUNCTION IF EXISTS accounts_guard_settings_ceiling();
DROP FUNCTION IF EXISTS accounts_settings_breach(date, accounts_safetysettings);
"""

# Assurance results are append-only (POLICY.md §7.2; migration 0015): the manager only inserts, the
# QuerySet refuses update() and delete(), and the database refuses UPDATE from any path (raw SQL
# included) and DELETE except in the transaction that erases a closed child's account
# (`accounts.erasure`, which sets `safety_portal.erasure` to the user's id; decisions D8, D16).
ASSURANCE_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION accounts_assurance_result_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('safety_portal.erasure', true) = OLD.user_id::text THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'age-assurance result % is append-only: record a new one', OLD.id
        USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_assurance_result_append_only
    BEFORE UPDATE OR DELETE ON accounts_ageassuranceresult
    FOR EACH ROW EXECUTE FUNCTION accounts_assurance_result_append_only();
"""

ASSURANCE_APPEND_ONLY_DROP = """
DROP TRIGGER IF EXISTS accounts_assurance_result_append_only ON accounts_ageassuranceresult;
DROP FUNCTION IF EXISTS accounts_assurance_result_append_only();
"""
