"""The hardening profiles the portal ships with; a portal admin can add more in the admin."""

PROFILES = [
    {
        "slug": "institutional-default",
        "name": "Institutional default",
        "description": "Every setting the institution recommends for hosts: passcodes, the "
        "waiting room, screen sharing by the host, no automatic recording, consent to "
        "recording, masked phone numbers, cameras off on joining, and data kept in the "
        "allowed regions.",
        "overrides": {},
        "is_default": True,
    },
    {
        "slug": "large-lecture",
        "name": "Large lecture",
        "description": "The institutional default without the waiting room, so hundreds of "
        "students can enter without being admitted one by one. Trade-off: anyone who has "
        "the link and the passcode enters at once, so send the link only to your class.",
        "overrides": {"in_meeting.waiting_room": False},
        "is_default": False,
    },
    {
        "slug": "sensitive-meeting",
        "name": "Sensitive meeting",
        "description": "The institutional default, and the passcode is no longer embedded in "
        "the join link: a forwarded link no longer admits anyone by itself. Trade-off: "
        "participants must type the passcode, which you send them separately.",
        "overrides": {"schedule_meeting.embed_password_in_join_link": False},
        "is_default": False,
    },
]
