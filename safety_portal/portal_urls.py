"""Browser portal routes for staff (issue 5).

The root shows the login page to anonymous visitors and the dashboard after login; every page
below is a staff page behind the second factor (`StaffTwoFactorMiddleware`). The permission-walk
test (tests/portal/test_permission_walk.py) walks every route here from the URL resolver.
"""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from safety_portal.core.admin_site import site as admin_site
from safety_portal.portal.views import (
    appeals,
    audit_log,
    auth,
    birthdates,
    case_actions,
    case_list,
    case_workspace,
    child_safety,
    dashboard,
    flags,
    minimum_age,
    statement_submissions,
    statements,
    transparency,
    users,
    wellbeing,
)


class FaviconView(RedirectView):
    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("portal/mark.svg")


portal_patterns = [
    path("", dashboard.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("two-factor/", auth.otp_verify, name="otp_verify"),
    path("two-factor/setup/", auth.otp_setup, name="otp_setup"),
    path("account/security/", auth.security, name="security"),
    path("cases/", case_list.case_list, name="cases"),
    path("cases/claim-next/", case_list.claim_next, name="claim_next"),
    path("cases/<int:case_id>/", case_workspace.case_detail, name="case"),
    path("cases/<int:case_id>/thread/", case_workspace.case_thread, name="case_thread"),
    path("cases/<int:case_id>/claim/", case_actions.case_claim, name="case_claim"),
    path("cases/<int:case_id>/release/", case_actions.case_release, name="case_release"),
    path("cases/<int:case_id>/take-over/", case_actions.case_take_over, name="case_take_over"),
    path("cases/<int:case_id>/escalate/", case_actions.case_escalate, name="case_escalate"),
    path("cases/<int:case_id>/notes/", case_actions.case_note, name="case_note"),
    path("cases/<int:case_id>/decide/", case_actions.case_decide, name="case_decide"),
    path("cases/<int:case_id>/reveal/", wellbeing.case_reveal, name="case_reveal"),
    path("flags/", flags.flag_list, name="flags"),
    path("flags/<int:flag_id>/", flags.flag_detail, name="flag"),
    path("flags/<int:flag_id>/review/", flags.flag_review, name="flag_review"),
    path("appeals/", appeals.appeal_list, name="appeals"),
    path("appeals/<int:appeal_id>/", appeals.appeal_detail, name="appeal"),
    path("child-safety/", child_safety.escalation_list, name="child_safety"),
    path(
        "child-safety/<int:escalation_id>/",
        child_safety.escalation_detail,
        name="child_safety_escalation",
    ),
    path(
        "child-safety/<int:escalation_id>/package/",
        child_safety.escalation_package,
        name="child_safety_package",
    ),
    path("statements/", statements.statement_list, name="statements"),
    path("statements/export/", statements.statement_export, name="statements_export"),
    path(
        "statements/submissions/",
        statement_submissions.submission_state,
        name="statement_submissions",
    ),
    path("transparency/", transparency.report_page, name="transparency"),
    path("transparency/report.csv", transparency.report_csv, name="transparency_csv"),
    path("transparency/report.xlsx", transparency.report_xlsx, name="transparency_xlsx"),
    path("minimum-age/", minimum_age.counts, name="minimum_age"),
    path("minimum-age/counts.csv", minimum_age.counts_csv, name="minimum_age_csv"),
    path("audit/", audit_log.audit_log, name="audit_log"),
    path("audit/verify/", audit_log.verify_chain, name="audit_verify"),
    path("users/", users.user_list, name="users"),
    path("users/<int:user_id>/", users.user_detail, name="user_detail"),
    path("users/<int:user_id>/birthdate/", users.reveal_birthdate, name="user_birthdate"),
    path("birthdate-requests/", birthdates.request_list, name="birthdate_requests"),
    path(
        "birthdate-requests/<int:request_id>/",
        birthdates.request_detail,
        name="birthdate_request",
    ),
]

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says; answer with the portal's mark.
    path("favicon.ico", FaviconView.as_view()),
    # The admin's own login page would skip the second factor: send it to the portal's.
    path("admin/login/", RedirectView.as_view(pattern_name="portal:login", query_string=True)),
    path("admin/", admin_site.urls),
    path("", include((portal_patterns, "portal"))),
]
