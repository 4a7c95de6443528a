"""The case workspace (issue 5): everything a moderator reads before acting, and the buttons the
rules allow (`rules.casework`, the same answer the managers give when a button is pressed).

The evidence blocks (issue 15.1: who is involved, the reported conversation, contact risk,
history) come from `portal.evidence`, each only for a role that may see it. Message bodies are
read only through `messaging.services.read_messages_for_staff`, with this case as the reason
(audited), and only when the moderator asks for them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from messaging.limits import STAFF_CONTEXT_WINDOW
from messaging.models import Message
from messaging.services import read_messages_for_staff
from moderation.managers import allowed_case_actions, case_refusal, case_state
from moderation.models import Case, CaseNote, Decision, Report
from safety_portal import rules
from safety_portal.core import clock
from safety_portal.core.audit.models import AuditEntry
from safety_portal.rules.casework import Action
from safety_portal.rules.grounds import GROUND_CHOICES, suggested_ground
from safety_portal.rules.sor_vocabulary import Category

from ..access import staff_view
from ..evidence import Conversation, Evidence, gather, thread_lines
from ..message_shield import shield_for
from ..pages import page
from ..presentation import band_label, category_label, keyword_label
from ..presentation import decision_type_choices as _decision_type_choices


class DecisionForm(forms.Form):
    """The shape of a decision; `moderation.services.decide` checks every rule.

    Unbound, it starts from the case (issue 15.2): the case's statement category, and the ground
    that category usually cites (`rules.grounds.suggested_ground`), so the moderator confirms
    rather than retypes. A termination or an under-age decision is refused until `confirm` is
    ticked (`rules.decisions.NEEDS_CONFIRMATION`): the server is the guard, not the page's script.
    """

    decision_type = forms.ChoiceField(label="Decision")
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=rules.decisions.MAX_DAYS,
        label="Duration (days)",
        help_text=f"Moderators up to {rules.decisions.MODERATOR_MAX_DAYS} days; longer needs a senior.",
    )
    feature = forms.ChoiceField(
        required=False,
        label="Feature",
        choices=[
            ("", "—"),
            *[(f.value, f.value.replace("_", " ")) for f in rules.vocabulary.Feature],
        ],
    )
    ground = forms.ChoiceField(
        required=False, label="Policy ground", choices=[("", "—"), *GROUND_CHOICES]
    )
    category = forms.ChoiceField(
        required=False,  # missing (an older form, a script): the case's own category
        label="Statement category",
        choices=[(c.value, category_label(c.value)) for c in Category],
        help_text="From the case; change it if the review found another kind of violation.",
    )
    explanation = forms.CharField(
        required=False,
        label="Explanation to the user",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Plain words; no personal data. It appears in the notice and the statement.",
    )
    facts = forms.CharField(
        label="Facts relied on",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published in the statement of reasons: no names, no message quotes.",
    )
    remove_reported_message = forms.BooleanField(
        required=False, label="Remove the reported message"
    )
    lock_thread = forms.BooleanField(required=False, label="Lock the conversation")
    confirm = forms.BooleanField(
        required=False,
        # No "decision" in the label: the form's "Decision" field keeps a label of its own.
        label="I have checked the evidence and I confirm: this cannot be undone by a moderator",
    )

    def __init__(self, *args: Any, user: Any, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "category": case.category,
                "ground": suggested_ground(case.category, case.keywords),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["decision_type"].choices = _decision_type_choices(user)
        if case.subject_message_id is None:
            del self.fields["remove_reported_message"]
        if case.subject_thread_id is None:
            del self.fields["lock_thread"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("decision_type")
        deciding = self.data.get("intent") != "preview"  # a preview takes nothing: no confirm
        if deciding and kind in rules.decisions.NEEDS_CONFIRMATION and not data.get("confirm"):
            label = dict(self.fields["decision_type"].choices).get(kind, kind)
            self.add_error(
                "confirm",
                f"“{label}” cannot be undone by a moderator: tick “I have checked the "
                "evidence and I confirm”, then decide again.",
            )
        return data


# Which fields each decision type uses (the page hides the others when JavaScript runs).
SHOW_FOR = {
    "days": "restrict_feature suspend",
    "feature": "restrict_feature",
    "ground": " ".join(
        t.value for t in rules.decisions.RESTRICTING | {rules.decisions.DecisionType.WARN}
    ),
    "explanation": " ".join(
        t.value for t in rules.decisions.RESTRICTING | {rules.decisions.DecisionType.WARN}
    ),
    "remove_reported_message": "remove_messages",
    "lock_thread": " ".join(t.value for t in rules.decisions.RESTRICTING),
    "confirm": " ".join(sorted(t.value for t in rules.decisions.NEEDS_CONFIRMATION)),
}


def _case_or_404(case_id: int) -> Case:
    return get_object_or_404(
        Case.objects.select_related("subject_user", "claimed_by", "subject_thread"), pk=case_id
    )


def _case_entries(case: Case) -> list[AuditEntry]:
    """Audit entries about the case and about the decisions taken on it (newest 50)."""
    decision_ids = [
        str(pk) for pk in Decision.objects.filter(case=case).values_list("pk", flat=True)
    ]
    where = Q(target_type=case._meta.label_lower, target_id=str(case.pk))
    if decision_ids:
        where |= Q(target_type=Decision._meta.label_lower, target_id__in=decision_ids)
    return list(AuditEntry.objects.filter(where).order_by("-id")[:50])


def _timeline(case: Case) -> list[dict[str, Any]]:
    notes = [
        {"kind": "note", "at": n.created_at, "who": n.author.username, "text": n.body}
        for n in CaseNote.objects.filter(case=case).select_related("author")
    ]
    events = [
        {
            "kind": "decision" if e.action.startswith("moderation.decision") else "event",
            "at": e.created_at,
            "who": e.actor_label,
            "text": " ".join(e.action.split(".")[1:]).replace("_", " "),
            "reason": e.reason,
        }
        for e in _case_entries(case)
    ]
    opened = {"kind": "event", "at": case.opened_at, "who": "", "text": "case opened", "reason": ""}
    return sorted([opened, *notes, *events], key=lambda item: item["at"])


def workspace_context(
    request: HttpRequest, case: Case, *, form: DecisionForm | None = None
) -> dict[str, Any]:
    user = request.user
    now = clock.now()
    subject = case.subject_user
    allowed = allowed_case_actions(case, user, at=now)
    holder = case_state(case).holder(at=now)
    held_by_other = holder is not None and holder != user.pk
    decide_refusal = case_refusal(case, Action.DECIDE, actor=user, at=now)
    reports = list(
        Report.objects.filter(case=case)
        .select_related("reporter", "trusted_flagger")
        .order_by("created_at", "id")[:100]
    )
    evidence = gather(case, reports=reports, viewer=user, at=now, today=clock.today())
    ctx: dict[str, Any] = {
        "case": case,
        "band": band_label(case.priority),
        "now": now,
        "overdue": case.is_open and case.due_at <= now,
        "is_open": case.is_open,
        "holder_is_me": holder == user.pk,
        "held_by_other": held_by_other,
        # Every button is an action the rules allow now (rules.casework), the same answer the
        # managers give when it is pressed; "take over" is offered only against another holder.
        "can_claim": Action.CLAIM in allowed,
        "can_take_over": held_by_other and Action.TAKE_OVER in allowed,
        "can_escalate": Action.ESCALATE in allowed,
        "can_note": Action.NOTE in allowed,
        "can_read_bodies": "thread" in evidence.blocks,
        "show_decision_form": Action.DECIDE in allowed,
        # Allowed once they hold the case: the page says "claim it to decide".
        "may_decide": decide_refusal is None
        or decide_refusal.code in {"not_claimer", "claim_expired"},
        "category": category_label(case.category),
        "keywords": [keyword_label(k) for k in case.keywords or ()],
        "reports": [
            {"r": r, "category": category_label(r.category), "who": evidence.person(r.reporter_id)}
            for r in reports
        ],
        "timeline": _timeline(case),
        "decisions": list(
            Decision.objects.filter(case=case).select_related("decided_by").order_by("decided_at")
        ),
        "evidence": evidence,
        "subject": subject,
        "context_window": STAFF_CONTEXT_WINDOW,
    }
    if case.subject_message_id is not None:
        ctx["reported_message"] = (
            Message.objects.without_bodies()
            .select_related("sender")
            .filter(pk=case.subject_message_id)
            .first()
        )
    if subject is not None:
        ctx["account_days"] = (now - subject.date_joined).days
    if ctx["show_decision_form"]:
        ctx["form"] = form or DecisionForm(user=user, case=case)
        ctx["show_for"] = SHOW_FOR
    return ctx


@require_GET
@staff_view("moderation.view_case")
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    return page(request, "portal/case.html", workspace_context(request, case), nav="queue")


@require_GET
@staff_view("moderation.view_case", "messaging.read_message_body")
def case_thread(request: HttpRequest, case_id: int) -> HttpResponse:
    """The reported conversation in context, both sides: the reported message with the messages
    around it, or a thread's latest messages. Reading bodies is audited with this case as the
    reason (`read_messages_for_staff`); only a conversation of the case's evidence can be opened."""
    case = _case_or_404(case_id)
    ctx = workspace_context(request, case)
    evidence: Evidence = ctx["evidence"]
    conversation = _chosen_conversation(evidence, request.GET.get("thread", ""))
    messages: list[Message] = []
    if conversation is not None:
        reported = ctx.get("reported_message")
        in_context = reported is not None and reported.thread_id == conversation.thread.pk
        messages = read_messages_for_staff(
            actor=request.user,
            thread=conversation.thread,
            case=case,
            reason="",
            around=reported if in_context else None,
            limit=STAFF_CONTEXT_WINDOW if in_context else 2 * STAFF_CONTEXT_WINDOW + 1,
        )
    ctx["thread_lines"] = thread_lines(messages, evidence)
    ctx["opened_conversation"] = conversation
    ctx["thread_opened"] = True
    ctx["shield"] = shield_for(case, request)  # the wellbeing blur of harmful bodies (15.3)
    return page(request, "portal/case.html", ctx, nav="queue")


def _chosen_conversation(evidence: Evidence, wanted: str) -> Conversation | None:
    """The conversation asked for by id, among the case's own; the first one by default. Any other
    id is a 404: a case is not a door to every thread."""
    if not evidence.conversations:
        return None
    if not wanted:
        return evidence.conversations[0]
    found = next((c for c in evidence.conversations if str(c.thread.pk) == wanted), None)
    if found is None:
        raise Http404("Not a conversation of this case.")
    return found
