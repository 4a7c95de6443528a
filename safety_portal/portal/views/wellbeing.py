"""The wellbeing reveal (issue 15.3): a moderator chooses to see one blurred message body.

Thin: `moderation.wellbeing.reveal_message` checks the case and the message and writes the audit
entry. The page's script posts here and shows the body in place (a JSON answer); a browser without
the script submits the form and is sent back to the thread with the message shown.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from messaging.services import READ_PERMISSION
from moderation import wellbeing
from safety_portal.core.errors import DomainError

from ..access import staff_view
from ..message_shield import revealed_ids
from .case_workspace import _case_or_404


@require_POST
@staff_view("moderation.view_case", READ_PERMISSION)
def case_reveal(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(case_id)
    wanted = revealed_ids([request.POST.get("message", "")])
    scripted = request.headers.get("Accept", "").startswith("application/json")
    try:
        if not wanted:
            raise DomainError("invalid", "Name the message to show.")
        wellbeing.reveal_message(case, message_id=next(iter(wanted)), actor=request.user)
    except DomainError as exc:
        if scripted:
            return JsonResponse(exc.as_dict(), status=exc.status_code)
        messages.error(request, exc.detail)
        wanted = frozenset()
    if scripted:
        return JsonResponse({"revealed": next(iter(wanted))})
    shown = sorted(revealed_ids(request.POST.getlist("shown")) | wanted)
    params: dict[str, object] = {"revealed": shown} if shown else {}
    thread = request.POST.get("thread", "")
    if thread.isdigit():  # the conversation the moderator was reading, not the case's first
        params = {"thread": thread, **params}
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    anchor = f"#message-{next(iter(wanted))}" if wanted else ""
    return HttpResponseRedirect(reverse("portal:case_thread", args=[case.pk]) + query + anchor)
