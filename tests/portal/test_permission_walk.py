"""Every portal and admin URL, walked from the URL resolver, for every kind of visitor; and the
case workspace's evidence blocks, walked inside the page (EXPECTED_BLOCKS, issue 15.1).

A page added without an entry in EXPECTED fails this test, so a new page cannot be forgotten.
Each request runs in a savepoint that is rolled back, so one visitor's POST (a claim, a note)
does not change what the next visitor finds. "Allowed" means the page did its work: a 2xx, or a
redirect that is not to the login or second-factor page. Denied is 403, or a redirect to login.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape

from accounts.models import BirthdateChangeRequest, GuardianLink
from accounts.roles import ROLE_PERMISSIONS, Role, sync_roles
from messaging.models import Block, Message, Thread
from moderation import services
from moderation.actions.child_safety import hold_and_escalate
from moderation.models import Case, Flag
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.api.models import ApiClient
from safety_portal.core.audit.models import AuditEntry
from safety_portal.core.errors import PolicyViolation
from safety_portal.portal.access import EVIDENCE_BLOCKS
from safety_portal.rules.ages import age_on
from tests.factories.accounts import AppUserFactory
from tests.factories.moderation import decided, report_message

from .conftest import sign_in
from .scenario import ACTOR, Day, build_day

pytestmark = pytest.mark.django_db

T, M, S, A, AD, CS = "triage", "moderator", "senior", "auditor", "admin", "child_safety"
ANON, APP = "anonymous", "app_user"
STAFF = {T, M, S, A, AD, CS}
CASE_WORKERS = {T, M, S}
DECIDERS = {M, S}
VISITORS = [ANON, APP, T, M, S, A, AD, CS]
ROLE_OF = {
    T: Role.TRIAGE,
    M: Role.MODERATOR,
    S: Role.SENIOR_MODERATOR,
    A: Role.AUDITOR,
    AD: Role.ADMINISTRATOR,
    CS: Role.CHILD_SAFETY,
}

# url name -> the visitors who may use it. Admin model pages: the admin site is the
# Administrator's, and of its models they see users and API clients only.
EXPECTED: dict[str, set[str]] = {
    # The load balancer's probes: everyone, logged in or not (they show no data; tests/ops).
    "healthz": set(VISITORS),
    "readyz": set(VISITORS),
    "metrics": set(),  # Prometheus only, with METRICS_TOKEN (tests/ops/test_metrics.py)
    "portal:home": {ANON, *STAFF},  # anonymous visitors get the login page
    "portal:login": {ANON, *STAFF},
    "portal:otp_verify": STAFF,
    # Enrolment is for staff without a device (test_sign_in); the enrolled are sent on to the code.
    "portal:otp_setup": set(),
    "portal:security": STAFF,
    "portal:cases": CASE_WORKERS,
    "portal:claim_next": CASE_WORKERS,
    "portal:case": CASE_WORKERS,
    "portal:case_thread": CASE_WORKERS,
    "portal:case_claim": CASE_WORKERS,
    "portal:case_release": CASE_WORKERS,
    "portal:case_take_over": {S},
    "portal:case_escalate": CASE_WORKERS,
    "portal:case_note": CASE_WORKERS,
    "portal:case_decide": DECIDERS,
    "portal:case_reveal": CASE_WORKERS,
    "portal:flags": CASE_WORKERS,
    "portal:flag": CASE_WORKERS,
    "portal:flag_review": DECIDERS,
    "portal:appeals": {S},
    "portal:appeal": {S},
    "portal:child_safety": {CS},
    "portal:child_safety_escalation": {CS},
    "portal:child_safety_package": {CS},
    "portal:statements": {A},
    "portal:statements_export": {A},
    "portal:statement_submissions": {A},
    "portal:minimum_age": {S, A},
    "portal:transparency": {A},
    "portal:transparency_csv": {A},
    "portal:transparency_xlsx": {A},
    "portal:minimum_age_csv": {S, A},
    "portal:audit_log": {A},
    "portal:audit_verify": {A},
    "portal:users": {M, S, AD},
    "portal:user_detail": {M, S, AD},
    "portal:user_birthdate": {S},
    "portal:birthdate_requests": {S},
    "portal:birthdate_request": {S},
    "admin:index": {AD},
    "admin:login": set(),  # only ever a redirect to the portal's login (and its second factor)
    "admin:password_change": set(),
    "admin:password_change_done": set(),
    "admin:autocomplete": set(),
    "admin:jsi18n": {AD},
    "admin:app_list": {AD},
    "admin:accounts_user_changelist": {AD},
    "admin:accounts_user_add": {AD},
    "admin:accounts_user_change": {AD},
    "admin:accounts_user_history": {AD},
    "admin:accounts_user_delete": set(),
    "admin:accounts_user_reset_2fa": {AD},
    "admin:accounts_user_set_active": {AD},
    "admin:accounts_user_set_password": {AD},
    "admin:integrations_apiclient_changelist": {AD},
    "admin:integrations_apiclient_add": {AD},
    "admin:integrations_apiclient_change": {AD},
    "admin:integrations_apiclient_history": {AD},
    "admin:integrations_apiclient_delete": set(),
    "admin:integrations_apiclient_rotate": {AD},
    "admin:integrations_apiclient_revoke": {AD},
}
# Record browsers registered read-only: nobody's role includes their view permission (only a
# superuser sees them), and add/change/delete do not exist for anyone.
READ_ONLY_MODELS = [
    "accounts_birthdatechangerequest",
    "accounts_guardianlink",
    "accounts_safetysettings",
    "audit_auditentry",
    "audit_auditarchive",
    "messaging_thread",
    "messaging_message",
    "messaging_connection",
    "messaging_block",
    "messaging_refusedcontactattempt",
    "messaging_groupinvite",
    "moderation_case",
    "moderation_report",
    "moderation_decision",
    "moderation_appeal",
    "moderation_flag",
    "accounts_restriction",
    "moderation_strike",
    "moderation_statementofreasons",
    "moderation_notice",
    "moderation_trustedflagger",
]
for _model in READ_ONLY_MODELS:
    for _view in ("changelist", "add", "change", "history", "delete"):
        EXPECTED[f"admin:{_model}_{_view}"] = set()

# Walked separately (their meaning is the same for everyone): signing out, and the admin's
# sign-out and "view on site" redirect, which are not pages.
NOT_WALKED = {"portal:logout", "admin:logout", "admin:view_on_site"}


@dataclass
class Route:
    name: str
    pattern: URLPattern
    params: list[str]


def routes() -> Iterator[Route]:
    def walk(patterns: list, namespace: str, prefix: str) -> Iterator[Route]:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = namespace
                if p.namespace:
                    inner = f"{namespace}:{p.namespace}" if namespace else p.namespace
                yield from walk(p.url_patterns, inner, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                full = f"{namespace}:{p.name}" if namespace else p.name
                params = list(p.pattern.regex.groupindex)
                yield Route(full, p, params)

    for route in walk(get_resolver().url_patterns, "", ""):
        if not route.name.startswith(("v1:", "api-")):  # the REST API has its own tests
            yield route


@pytest.fixture
def world() -> dict[str, object]:
    day: Day = build_day()
    moderator = day.staff[Role.MODERATOR]
    scam_case = day.others[1]
    Case.objects.claim(scam_case, actor=moderator)
    decision = services.decide(
        scam_case,
        actor=moderator,
        decision_type="suspend",
        days=3,
        ground="tc_scams",
        explanation="Your account posted scam links.",
        facts="The account posted the same crypto giveaway link under many videos.",
    )
    appeal = services.file_appeal(
        decision,
        appellant=decision.target_user,
        statement="Those were real giveaways.",
        actor=decision.target_user,
    )
    escalation = hold_and_escalate(
        scam_case, actor=ACTOR, trigger="Permission walk", decision=decision
    )
    flag = services.record_age_estimate(
        user=day.minor, estimated_age=11.0, confidence=0.95, actor=ACTOR, model="test"
    )
    assert isinstance(flag, Flag)
    teen = AppUserFactory(username="ari_fourteen", age=14, country="GB")
    request = BirthdateChangeRequest.objects.submit(
        user=teen,
        new_birthdate=teen.birthdate - dt.timedelta(days=365 * 3),
        method=rules.vocabulary.AssuranceMethod.ID_DOCUMENT,
        evidence_reference="idv:walk",
        reason="Typed the wrong year.",
        actor=ACTOR,
    )
    client, _token = ApiClient.objects.create_client(
        name="walk-client", scopes=["users:read"], actor=ACTOR
    )
    parent = AppUserFactory(username="pat_parent", age=40, country="GB")
    link = GuardianLink.objects.propose(guardian=parent, teen=teen, actor=parent)
    app_user = AppUserFactory(username="just_an_app_user", age=30)
    objects = {
        "case_id": day.message_case.pk,
        "flag_id": flag.pk,
        "appeal_id": appeal.pk,
        "escalation_id": escalation.pk,
        "request_id": request.pk,
        "user_id": day.sender.pk,
        "app_label": "accounts",
        "accounts_user": day.sender.pk,
        "accounts_birthdatechangerequest": request.pk,
        "accounts_guardianlink": link.pk,
        "accounts_safetysettings": day.sender.safety_settings.pk,
        "audit_auditentry": AuditEntry.objects.order_by("-id").first().pk,
        "audit_auditarchive": None,
        "messaging_thread": day.thread.pk,
        "messaging_message": day.reported.pk,
        "messaging_connection": day.sender.following.first().pk,
        "messaging_block": None,
        "messaging_refusedcontactattempt": None,
        "messaging_groupinvite": None,
        "moderation_case": scam_case.pk,
        "moderation_report": scam_case.reports.first().pk,
        "moderation_decision": decision.pk,
        "moderation_appeal": appeal.pk,
        "moderation_flag": flag.pk,
        "accounts_restriction": decision.restrictions.first().pk,
        "moderation_strike": decision.strike.pk,
        "moderation_statementofreasons": decision.statement.pk,
        "moderation_notice": decision.notices.first().pk,
        "moderation_trustedflagger": None,
        "integrations_apiclient": client.pk,
        "client_id": client.pk,
        "admin:accounts_user_reset_2fa:user_id": day.staff[Role.TRIAGE].pk,
        "admin:accounts_user_set_active:user_id": day.staff[Role.TRIAGE].pk,
        "admin:accounts_user_set_password:user_id": day.staff[Role.TRIAGE].pk,
    }
    visitors: dict[str, Client] = {ANON: Client()}
    app_client = Client()
    app_client.force_login(app_user)
    visitors[APP] = app_client
    for short, role in ROLE_OF.items():
        visitors[short] = sign_in(Client(), day.staff[role])
    return {"objects": objects, "visitors": visitors, "day": day}


def _url(route: Route, objects: dict[str, object]) -> str | None:
    kwargs: dict[str, object] = {}
    for param in route.params:
        if f"{route.name}:{param}" in objects:
            value = objects[f"{route.name}:{param}"]
        elif param == "object_id":
            model = route.name.split(":", 1)[1].rsplit("_", 1)[0]
            value = objects.get(model)
        else:
            value = objects.get(param)
        if value is None:
            return None
        kwargs[param] = value
    return reverse(route.name, kwargs=kwargs)


def _outcome(client: Client, url: str) -> str:
    with transaction.atomic():
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        transaction.set_rollback(True)
    status = response.status_code
    if status in (401, 403):
        return "denied"
    if status == 404:
        return "missing"
    if status >= 500:
        return f"error {status}"
    if status in (301, 302):
        target = response["Location"]
        if target.startswith((reverse("portal:login"), "/admin/login/")):
            return "login"
        if target.startswith(reverse("portal:otp_verify")):
            return "second factor"
    return "ok"


def test_every_route_is_in_the_expected_table() -> None:
    names = {r.name for r in routes()}
    missing = sorted(names - set(EXPECTED) - NOT_WALKED)
    assert missing == [], f"new pages need an entry in EXPECTED: {missing}"
    stale = sorted(set(EXPECTED) - names)
    assert stale == [], f"EXPECTED names pages that no longer exist: {stale}"


def test_each_visitor_reaches_exactly_the_pages_of_their_role(world: dict) -> None:
    objects, visitors = world["objects"], world["visitors"]
    problems = []
    walked = 0
    for route in routes():
        if route.name in NOT_WALKED:
            continue
        url = _url(route, objects)
        if url is None:
            continue  # no such object in this world (e.g. no block exists)
        for visitor in VISITORS:
            outcome = _outcome(visitors[visitor], url)
            allowed = visitor in EXPECTED[route.name]
            walked += 1
            if outcome.startswith("error"):
                problems.append(f"{route.name} {url} as {visitor}: {outcome}")
            elif allowed and outcome != "ok":
                problems.append(f"{route.name} {url} as {visitor}: expected ok, got {outcome}")
            elif not allowed and outcome == "ok":
                problems.append(f"{route.name} {url} as {visitor}: expected refusal, got ok")
    assert walked > 400
    assert problems == [], "\n".join(problems)


def test_signing_out_works_for_everyone_signed_in(world: dict) -> None:
    for visitor in (APP, T, AD):
        client = world["visitors"][visitor]
        response = client.post(reverse("portal:logout"))
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session


# --------------------------------------------------------------------------------------------------
# The case workspace's evidence blocks (issue 15.1): the walk goes past the URL into the page
# --------------------------------------------------------------------------------------------------

# block of `access.EVIDENCE_BLOCKS` -> the visitors who see its content on the case workspace.
EXPECTED_BLOCKS: dict[str, set[str]] = {
    "people": CASE_WORKERS,
    "ages": CASE_WORKERS,
    "thread": CASE_WORKERS,
    "contact_risk": CASE_WORKERS,
    "prior_reports": CASE_WORKERS,
    "prior_decisions": CASE_WORKERS,
    "restrictions": CASE_WORKERS,
    "strikes": CASE_WORKERS,
    "flags": CASE_WORKERS,
}


@pytest.fixture
def evidence(world: dict) -> dict[str, str]:
    """The world's message case given a subject with history (sam, 29): refused for a
    15-year-old and blocked by her, an earlier decision (a restriction and a strike), a pending
    report and a contact-risk flag. Returns, per block, a text only that block shows."""
    day: Day = world["day"]
    sam, jo, lily = day.sender, day.recipient, day.minor
    with pytest.raises(PolicyViolation):
        Thread.objects.start(creator=sam, participants=[lily], actor=sam)
    Block.objects.block(blocker=lily, blocked=sam, actor=lily)
    # sam's messages, oldest first: two before the reported threat (each becomes its own case)
    first, second, reported = Message.objects.in_thread(day.thread).filter(sender=sam).reverse()
    assert reported == day.reported
    earlier = report_message(first, reporter=jo).case
    decision = decided(
        earlier, day.staff[Role.MODERATOR], "restrict_feature", days=3, feature="livestream"
    )
    pending = report_message(second, reporter=jo)
    flag = Flag.objects.raise_signal(
        user_id=sam.pk, kind="contact_risk", signal={"source": "walk"}, actor=ACTOR
    )
    return {
        "people": 'data-testid="evidence-people"',
        "ages": f"{age_on(sam.birthdate, clock.today())} y",
        "thread": escape(day.reported.body),
        "contact_risk": "dm_recipient_under_16",
        "prior_reports": f'data-testid="prior-report-{pending.pk}"',
        "prior_decisions": f'data-testid="prior-decision-{decision.pk}"',
        "restrictions": f'data-testid="restriction-{decision.restrictions.get().pk}"',
        "strikes": f'data-testid="strike-{decision.strike.pk}"',
        "flags": f'data-testid="flag-{flag.pk}"',
    }


def _workspace_text(client: Client, case_id: int) -> str:
    """The case page and its opened conversation as this visitor gets them (rolled back: opening
    the conversation writes an audit entry)."""
    text = []
    for name in ("portal:case", "portal:case_thread"):
        with transaction.atomic():
            response = client.get(reverse(name, args=[case_id]))
            transaction.set_rollback(True)
        if response.status_code == 200:
            text.append(response.content.decode())
    return "\n".join(text)


def _blocks_seen(text: str, sentinels: dict[str, str]) -> set[str]:
    return {block for block, sentinel in sentinels.items() if sentinel in text}


def test_every_evidence_block_is_in_the_expected_table() -> None:
    assert set(EXPECTED_BLOCKS) == set(EVIDENCE_BLOCKS)


def test_each_visitor_sees_exactly_the_evidence_blocks_of_their_role(
    world: dict, evidence: dict[str, str]
) -> None:
    case_id = world["objects"]["case_id"]
    problems = []
    for visitor in VISITORS:
        seen = _blocks_seen(_workspace_text(world["visitors"][visitor], case_id), evidence)
        expected = {block for block, who in EXPECTED_BLOCKS.items() if visitor in who}
        if seen != expected:
            problems.append(f"{visitor}: sees {sorted(seen)}, expected {sorted(expected)}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("block", sorted(set(EVIDENCE_BLOCKS) - {"people"}))
def test_a_role_without_a_blocks_permission_does_not_see_its_content(
    block: str, world: dict, evidence: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Take the block's permission away from Triage (the table, then the group, as `sync_roles`
    does after a change to accounts/roles.py): the block's content leaves the page, the others
    stay. ("people" needs the page's own permission: without it the page is refused.)"""
    perm = EVIDENCE_BLOCKS[block]
    triage = world["visitors"][T]
    case_id = world["objects"]["case_id"]
    assert block in _blocks_seen(_workspace_text(triage, case_id), evidence)
    monkeypatch.setitem(
        ROLE_PERMISSIONS,
        Role.TRIAGE,
        tuple(p for p in ROLE_PERMISSIONS[Role.TRIAGE] if p != perm),
    )
    sync_roles(roles=[Role.TRIAGE])
    assert triage.get(reverse("portal:case", args=[case_id])).status_code == 200
    seen = _blocks_seen(_workspace_text(triage, case_id), evidence)
    same_permission = {b for b, p in EVIDENCE_BLOCKS.items() if p == perm}
    assert seen == set(EVIDENCE_BLOCKS) - same_permission
