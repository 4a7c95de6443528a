"""What a minor is told when a rule change moves their settings (POLICY.md §7.4), in words for
their age: one sentence per setting that moved, and where to see why."""

from __future__ import annotations

from collections.abc import Mapping

from safety_portal import rules

Tier = rules.vocabulary.Tier

# Each setting as it reads once it has moved to its stricter value.
_MOVED: dict[str, str] = {
    "dm_setting": "Direct messages are limited to what your age group allows.",
    "private_account": "Your account is private again: only people you approve see your videos.",
    "comment_setting": "Comments on your videos are limited to what your age group allows.",
    "duet_setting": "Duets and stitches with your videos are limited to what your age group allows.",
    "download_setting": "Nobody can download your videos any more.",
    "suggest_account": "Your account is no longer suggested to other people.",
    "connections_visible": "Other people can no longer see who you follow or who follows you.",
}


def policy_change_notice(tier: Tier, moved: Mapping[str, object]) -> tuple[str, str]:
    """Subject and body of the notice for settings that moved under a changed rule."""
    lines = [_MOVED[name] for name in rules.safety_settings.SETTING_NAMES if name in moved]
    if tier is Tier.YOUNG_TEEN:
        intro = (
            "We changed some of your settings to keep accounts of 13- to 15-year-olds safer. "
            "Here is what is different:"
        )
        outro = (
            "If a parent or carer is linked to your account, they can help you change what "
            "your age group allows. You can see every setting, and why it is set, in Settings."
        )
    else:
        intro = (
            "We changed some of your settings because the safety rules for people under 18 "
            "changed. Here is what is different:"
        )
        outro = "You can see every setting, and why it is set, in Settings."
    body = "\n".join([intro, "", *(f"- {line}" for line in lines), "", outro])
    return "Your safety settings changed", body
