"""The institution's Zoom checklist, declared once as data.

The scorer, the hardener, the pages and the reports all read these items; nothing about an
item is written anywhere else. Ids are stable: reports, exports and the audit log use them.
Field paths are dotted paths into the Zoom document named by `Item.source`; the types and
helpers live in audits.checklist_model and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audits.checklist.model import (
    DEFAULT_INSTITUTION,
    FIXABLE_LEVELS,
    HOST_CONTROLLED,
    LOCK_KEYS,
    NON_EMPTY,
    SOURCES,
    WEIGHTS,
    Institution,
    Item,
    Level,
    MeetingCheck,
    Severity,
    fix_consent,
    fix_regions,
    fix_storage,
    to_patch_body,
)

__all__ = [
    "BEST_PRACTICES",
    "CONCERNS",
    "DEFAULT_INSTITUTION",
    "FIXABLE_LEVELS",
    "GROUPS",
    "GROUPS_BY_ID",
    "HOST_CONTROLLED",
    "ITEMS",
    "ITEMS_BY_ID",
    "LOCK_KEYS",
    "SOURCES",
    "WEIGHTS",
    "Group",
    "Institution",
    "Item",
    "Level",
    "MeetingCheck",
    "Severity",
    "items_in_group",
    "meeting_fixes",
    "profile_items",
    "to_patch_body",
]


@dataclass(frozen=True)
class Group:
    id: str
    title: str


GROUPS: tuple[Group, ...] = (
    Group("meetings", "Meeting settings"),
    Group("recording", "Recording settings"),
    Group("phone", "Phone settings"),
    Group("practices", "Best practices for hosts"),
    Group("concerns", "Privacy and security concerns"),
)
GROUPS_BY_ID: Mapping[str, Group] = {group.id: group for group in GROUPS}

_PASSCODE_WHY = (
    "A passcode stops people who only have the meeting number, or who guess it, from walking "
    'in. Uninvited guests joining to show offensive material ("Zoombombing") was the attack '
    "that made the institution set passcodes on by default; the cost is one more thing "
    "participants enter when they join."
)
_CLOUD_WHY = (
    "Allowed by the institution's defaults, not a protection. A cloud recording is kept on "
    "Zoom's servers, possibly outside Canada, so record to the cloud only what may live there. "
    "Recording less than this is always fine."
)
_RECORDING_HOW = "Settings › Recording › Cloud recording › "


def _recording_default(id_: str, title: str, path: str, label: str, guidance: str, **kw) -> Item:
    return Item(
        id=id_,
        title=title,
        group="recording",
        level=Level.USER,
        severity=Severity.INFO,
        wanted=f"{label}: allowed (on) — or off if you prefer",
        why=_CLOUD_WHY,
        how_to_fix=_RECORDING_HOW + label,
        concern="residency",
        guidance=guidance,
        fields=(path,),
        check="recording_default",
        expect=((path, True),),
        **kw,
    )


def _passcode(id_: str, title: str, path: str, label: str, **kw: Any) -> Item:
    return Item(
        id=id_,
        title=title,
        group="meetings",
        level=Level.USER,
        severity=Severity.CRITICAL,
        wanted="On",
        why=_PASSCODE_WHY,
        how_to_fix=f"Settings › Meeting › Security › {label}",
        concern="meeting-security",
        guidance="Meeting settings 1; best practice 2",
        fields=(path,),
        expect=((path, True),),
        fix=((path, True),),
        **kw,
    )


ITEMS: tuple[Item, ...] = (
    _passcode(
        "meeting.passcode.new",
        "Passcode for new meetings",
        "schedule_meeting.require_password_for_scheduling_new_meetings",
        "Require a passcode when scheduling new meetings",
        cis=("1.1.1.4",),
    ),
    _passcode(
        "meeting.passcode.scheduled",
        "Passcode for meetings already scheduled",
        "schedule_meeting.require_password_for_scheduled_meetings",
        "Require a passcode for meetings which have already been scheduled",
        meeting_checks=(MeetingCheck("password", NON_EMPTY, "Passcode set"),),
        cis=("1.1.1.4",),
    ),
    _passcode(
        "meeting.passcode.instant",
        "Passcode for instant meetings",
        "schedule_meeting.require_password_for_instant_meetings",
        "Require a passcode for instant meetings",
        cis=("1.1.1.6",),
    ),
    Item(
        id="meeting.passcode.pmi",
        title="Passcode for your Personal Meeting ID",
        group="meetings",
        level=Level.USER,
        severity=Severity.CRITICAL,
        wanted="All meetings using your Personal Meeting ID",
        why=_PASSCODE_WHY
        + " Your Personal Meeting ID never changes, so once it has been shared it stays known: "
        "a passcode only for meetings people may join before you leaves the others open.",
        how_to_fix="Settings › Meeting › Security › Require a passcode for Personal Meeting ID "
        "(PMI) › All meetings using PMI",
        concern="meeting-security",
        guidance="Meeting settings 1; best practice 2",
        fields=("schedule_meeting.require_password_for_pmi_meetings",),
        expect=(("schedule_meeting.require_password_for_pmi_meetings", "all"),),
        partial=(("schedule_meeting.require_password_for_pmi_meetings", "jbh_only"),),
        fix=(("schedule_meeting.require_password_for_pmi_meetings", "all"),),
        cis=("1.1.1.7",),
    ),
    Item(
        id="meeting.screen_sharing.host_only",
        title="Only the host shares their screen",
        group="meetings",
        level=Level.USER,
        severity=Severity.CRITICAL,
        wanted="Screen sharing on; who can share: host only; who can start sharing while "
        "someone else is sharing: host only",
        why="If anyone may share, an intruder can put offensive material on everyone's screen "
        "the moment they join. With sharing limited to the host, you can still let a "
        "particular participant share during a meeting, by making them co-host.",
        how_to_fix="Settings › Meeting › In Meeting (Basic) › Screen sharing › Who can share? "
        "Host only, and Who can start sharing when someone else is sharing? Host only",
        concern="meeting-security",
        guidance="Meeting settings 2; best practice 3",
        fields=(
            "in_meeting.screen_sharing",
            "in_meeting.who_can_share_screen",
            "in_meeting.who_can_share_screen_when_someone_is_sharing",
        ),
        check="screen_sharing",
        fix=(
            ("in_meeting.screen_sharing", True),
            ("in_meeting.who_can_share_screen", "host"),
            ("in_meeting.who_can_share_screen_when_someone_is_sharing", "host"),
        ),
        cis=("1.1.3.4.1", "1.1.3.4.2"),
    ),
    Item(
        id="meeting.attention_tracking.off",
        title="Attention tracking off",
        group="meetings",
        level=Level.ADVISORY,
        severity=Severity.INFO,
        wanted="Off (Zoom has since removed the feature)",
        why="Attention tracking told the host when a participant's Zoom window was not in "
        "focus, which watched participants more than a meeting needs. Zoom retired it in "
        "April 2020, so there is nothing left to check or change. It is not the same as Focus "
        "Mode, which only limits whose video participants see.",
        how_to_fix="Nothing to do: Zoom retired the feature in April 2020.",
        concern="meeting-security",
        guidance="Meeting settings 3",
        source="",
        check="advisory",
    ),
    Item(
        id="meeting.waiting_room.on",
        title="Waiting room on",
        group="meetings",
        level=Level.USER,
        severity=Severity.CRITICAL,
        wanted="On, and participants cannot join before the host",
        why="With a waiting room, nobody enters until you admit them, so someone who found "
        "the link cannot simply walk in. Admitting a large class one by one takes time: you "
        "may turn it off for such a meeting, and keep a passcode on instead.",
        how_to_fix="Settings › Meeting › Security › Waiting Room; for a scheduled meeting, "
        "Meetings › the meeting › Edit › Security › Waiting Room, and untick Allow "
        "participants to join before host",
        concern="meeting-security",
        guidance="Meeting settings 4",
        fields=("in_meeting.waiting_room",),
        expect=(("in_meeting.waiting_room", True),),
        fix=(("in_meeting.waiting_room", True),),
        meeting_checks=(
            MeetingCheck(
                "settings.waiting_room", True, "Waiting room on", lock="in_meeting.waiting_room"
            ),
            MeetingCheck("settings.join_before_host", False, "Nobody joins before the host"),
        ),
        cis=("1.1.1.2",),
    ),
    Item(
        id="meeting.support_chat.allowed",
        title="Zoom support by chat",
        group="meetings",
        level=Level.ADVISORY,
        severity=Severity.INFO,
        wanted="Allowed",
        why="Hosts may reach Zoom's own support by chat for help with the service. Zoom's "
        "public settings interface does not report this option, so the portal only mentions it.",
        how_to_fix="Open Zoom's support chat from the Help menu of the Zoom web portal.",
        concern="client",
        guidance="Meeting settings 5",
        source="",
        check="advisory",
        cis=("1.1.7.4",),
    ),
    _recording_default(
        "recording.local.allowed",
        "Local recording allowed",
        "recording.local_recording",
        "Local recording",
        "Recording settings 1",
        cis=("1.2.1.1",),
    ),
    _recording_default(
        "recording.cloud.allowed",
        "Cloud recording allowed",
        "recording.cloud_recording",
        "Cloud recording",
        "Recording settings 2",
        cis=("1.2.2.1",),
    ),
    _recording_default(
        "recording.cloud.active_speaker",
        "Cloud recording: active speaker with shared screen",
        "recording.record_speaker_view",
        "Record active speaker with shared screen",
        "Recording settings 2a",
        cis=("1.2.2.2",),
    ),
    _recording_default(
        "recording.cloud.audio_file",
        "Cloud recording: audio file",
        "recording.record_audio_file",
        "Record an audio only file",
        "Recording settings 2b",
        cis=("1.2.2.5",),
    ),
    _recording_default(
        "recording.cloud.chat",
        "Cloud recording: chat messages",
        "recording.save_chat_text",
        "Save chat messages from the meeting",
        "Recording settings 2c",
        cis=("1.2.2.6",),
    ),
    _recording_default(
        "recording.cloud.participant_names",
        "Cloud recording: participants' names",
        "recording.display_participant_name",
        "Display participants' names in the recording",
        "Recording settings 2d",
        cis=("1.2.3.2",),
    ),
    _recording_default(
        "recording.cloud.thumbnails",
        "Cloud recording: thumbnails when sharing",
        "recording.recording_thumbnails",
        "Record thumbnails when sharing",
        "Recording settings 2e",
        cis=("1.2.3.3",),
    ),
    Item(
        id="recording.auto.off",
        title="Automatic recording off",
        group="recording",
        level=Level.USER,
        severity=Severity.HIGH,
        wanted="Off",
        why="A meeting is fully encrypted only while nobody records it, and a recording keeps "
        "what was said long after the meeting. Recording should be a choice you make for a "
        "meeting, with participants told, not something that starts by itself.",
        how_to_fix="Settings › Recording › Automatic recording (off); for a scheduled meeting, "
        "Meetings › the meeting › Edit › Options › Automatically record meeting",
        concern="confidentiality",
        guidance="Recording settings 3",
        fields=("recording.auto_recording",),
        expect=(("recording.auto_recording", "none"),),
        fix=(("recording.auto_recording", "none"),),
        meeting_checks=(
            MeetingCheck(
                "settings.auto_recording",
                "none",
                "Not recorded by itself",
                lock="recording.auto_recording",
            ),
        ),
        cis=("1.2.4.1",),
        cis_note="CIS wants automatic recording on; the institution turns it off, because a "
        "recording ends full encryption and may be stored outside Canada.",
    ),
    Item(
        id="recording.download.host_only",
        title="Only the host downloads cloud recordings",
        group="recording",
        level=Level.ACCOUNT,
        severity=Severity.HIGH,
        wanted="Cloud recording downloads on, for the host only",
        why="A downloaded recording leaves Zoom and the institution's control. Letting only "
        "the host download keeps the decision with the person responsible for the meeting.",
        how_to_fix="Set by the institution's Zoom administrators: Account Settings › Recording "
        "› Cloud recording downloads › Only the host can download cloud recordings",
        concern="confidentiality",
        guidance="Recording settings 4",
        source="account_settings",
        fields=("recording.cloud_recording_download", "recording.cloud_recording_download_host"),
        check="managed",
        expect=(
            ("recording.cloud_recording_download", True),
            ("recording.cloud_recording_download_host", True),
        ),
        cis=("1.2.5.2",),
    ),
    Item(
        id="recording.delete.host_can",
        title="Hosts can delete cloud recordings",
        group="recording",
        level=Level.ACCOUNT,
        severity=Severity.MEDIUM,
        wanted="Hosts may delete their cloud recordings",
        why="A host who can delete a cloud recording can remove it from Zoom's servers as "
        "soon as it is no longer needed, so less meeting content stays stored, possibly "
        "outside Canada.",
        how_to_fix="Set by the institution's Zoom administrators: Account Settings › Recording "
        "› Allow hosts to delete cloud recordings",
        concern="residency",
        guidance="Recording settings 5",
        source="account_settings",
        fields=("recording.host_delete_cloud_recording",),
        check="managed",
        expect=(("recording.host_delete_cloud_recording", True),),
        cis=("1.2.11",),
        cis_note="CIS wants hosts unable to delete recordings; the institution lets hosts "
        "delete them, so that content is not kept longer than it is needed.",
    ),
    Item(
        id="recording.consent",
        title="Participants asked to consent to recording",
        group="recording",
        level=Level.USER,
        severity=Severity.HIGH,
        wanted="A disclaimer shown to all participants when recording starts, asking for "
        "their consent",
        why="People should know they are being recorded and agree to it. Zoom can show every "
        "participant a notice when recording starts and ask them to consent or leave.",
        how_to_fix="Settings › Recording › Recording notifications - Zoom clients › Show a "
        "disclaimer to participants when a recording starts (All participants), and Ask "
        "participants for consent when a recording starts",
        concern="meeting-security",
        guidance="Recording settings 6; best practice 6",
        fields=(
            "recording.recording_disclaimer",
            "recording.ask_participants_to_consent_disclaimer",
            "recording.recording_notification_for_zoom_client.disclaimer_to_participants",
        ),
        check="consent",
        fix=(
            ("recording.recording_disclaimer", True),
            ("recording.ask_participants_to_consent_disclaimer", True),
            (
                "recording.recording_notification_for_zoom_client.disclaimer_to_participants",
                "All participants",
            ),
        ),
        fixer=fix_consent,
        cis=("1.2.7.1", "1.2.7.2"),
    ),
    Item(
        id="phone.numbers.masked",
        title="Phone numbers masked",
        group="phone",
        level=Level.USER,
        severity=Severity.MEDIUM,
        wanted="On (numbers show as 888****123)",
        why="Participants who dial in by phone would otherwise show their full number to "
        "everyone in the meeting. Masking hides the middle digits in the participant list.",
        how_to_fix="Settings › Audio Conferencing › Mask phone number in the participant list",
        concern="meeting-security",
        guidance="Phone settings 1",
        fields=("audio_conferencing.participant_phone_masking.enable",),
        expect=(("audio_conferencing.participant_phone_masking.enable", True),),
        fix=(("audio_conferencing.participant_phone_masking.enable", True),),
        cis=("1.3.2",),
    ),
    Item(
        id="practice.titles.not_sensitive",
        title="Meeting titles reveal nothing confidential",
        group="practices",
        level=Level.MEETING,
        severity=Severity.HIGH,
        wanted="No upcoming meeting's title or description names a patient, a grievance, a "
        "personal number or similar",
        why="A meeting's title appears in calendars, invitations, reminders and Zoom's own "
        'records, and travels further than the meeting itself. A title such as "Disciplinary '
        'hearing — J. Smith" discloses what the meeting was meant to keep private.',
        how_to_fix="Meetings › the meeting › Edit › Topic (and Description): use a neutral title",
        concern="meeting-security",
        guidance="Best practice 1",
        source="meetings",
        fields=("topic", "agenda"),
        check="titles",
    ),
    Item(
        id="practice.links.shared_directly",
        title="Share links only with the people invited",
        group="practices",
        level=Level.ADVISORY,
        severity=Severity.INFO,
        wanted="Links sent directly to participants, never posted publicly",
        why="A link posted on social media or an open web page reaches anyone, including "
        "people looking for meetings to disrupt. Send it to the people you invite, by e-mail, "
        "calendar invitation or your course site.",
        how_to_fix="When inviting, copy the invitation from Meetings › the meeting › Copy "
        "Invitation and send it to the participants themselves.",
        concern="meeting-security",
        guidance="Best practice 4",
        source="",
        check="advisory",
    ),
    Item(
        id="practice.links.embedded_passcode",
        title="Passcode embedded in the join link",
        group="practices",
        level=Level.USER,
        severity=Severity.INFO,
        wanted="Your choice: embedded is convenient; not embedded protects a leaked link",
        why="With the passcode embedded, one click joins the meeting, and a leaked link lets "
        "anyone in by itself. Without it, the passcode has to travel separately, which is "
        "safer and less convenient. For a sensitive meeting, turn embedding off and require "
        "participants to sign in.",
        how_to_fix="Settings › Meeting › Security › Embed passcode in invite link for "
        "one-click join",
        concern="meeting-security",
        guidance="Best practice 4",
        fields=("schedule_meeting.embed_password_in_join_link",),
        check="choice",
        cis=("1.1.1.8",),
        cis_note="CIS wants the passcode embedded; other guides want it kept out of links. The "
        "institution leaves the choice to the host and gives it no weight.",
    ),
    Item(
        id="practice.names.minimal",
        title="Participants show first name and last initial",
        group="practices",
        level=Level.ADVISORY,
        severity=Severity.INFO,
        wanted='Display names such as "Sam T."',
        why="Everyone in a meeting sees each participant's name, and recordings and chat logs "
        "keep it. A first name and last initial is usually enough for the meeting and "
        "exposes less personal information.",
        how_to_fix="Ask participants to rename themselves (Participants › their name › Rename), "
        "or change your own name under Profile.",
        concern="meeting-security",
        guidance="Best practice 5",
        source="",
        check="advisory",
    ),
    Item(
        id="practice.video.off_on_join",
        title="Camera and microphone off on joining",
        group="practices",
        level=Level.USER_AND_MEETING,
        severity=Severity.LOW,
        wanted="Host video off, participants' video off, participants muted on entry",
        why="Cameras and microphones that start on show and broadcast more than people "
        "intend: their homes, the people around them, conversations not meant for the "
        "meeting. Everyone can turn them on when they speak.",
        how_to_fix="Settings › Meeting › Schedule Meeting › Host video (off) and Participants "
        "video (off); for a scheduled meeting, Meetings › the meeting › Edit › Options › Mute "
        "participants upon entry",
        concern="meeting-security",
        guidance="Best practice 5 (the second)",
        fields=("schedule_meeting.host_video", "schedule_meeting.participants_video"),
        expect=(
            ("schedule_meeting.host_video", False),
            ("schedule_meeting.participants_video", False),
        ),
        fix=(
            ("schedule_meeting.host_video", False),
            ("schedule_meeting.participants_video", False),
        ),
        meeting_checks=(MeetingCheck("settings.mute_upon_entry", True, "Participants muted"),),
        cis=("1.1.2.2", "1.1.2.3", "1.1.2.12"),
    ),
    Item(
        id="practice.email.institutional",
        title="Signed up with your institutional e-mail",
        group="practices",
        level=Level.USER_OBJECT,
        severity=Severity.HIGH,
        wanted="An institutional e-mail address",
        why="An account under an institutional address belongs to the institution's Zoom "
        "account, so its protective defaults, support and data agreements apply. A personal "
        "address creates a private account outside all of that.",
        how_to_fix="Sign in to Zoom with the institution's single sign-on; ask participants "
        "to do the same rather than create accounts with personal addresses.",
        concern="meeting-security",
        guidance="Best practice 6 (the second)",
        source="user",
        fields=("email",),
        check="email_domain",
    ),
    Item(
        id="concern.encryption.e2ee_available",
        title="End-to-end encryption available",
        group="concerns",
        level=Level.USER,
        severity=Severity.INFO,
        wanted="Available, for the meetings that need it",
        why="Otherwise a meeting is fully encrypted only when everyone joins with the Zoom "
        "client and nobody records, and Zoom can technically reach its content. With "
        "end-to-end encryption the keys stay on participants' devices. It switches off cloud "
        "recording and joining before the host, so use it for sensitive meetings.",
        how_to_fix="Settings › Meeting › Security › Allow use of end-to-end encryption",
        concern="confidentiality",
        guidance="Concern 1",
        source="meeting_security",
        fields=("meeting_security.end_to_end_encrypted_meetings",),
        expect=(("meeting_security.end_to_end_encrypted_meetings", True),),
    ),
    Item(
        id="concern.residency.regions",
        title="Meetings stay in allowed data-centre regions",
        group="concerns",
        level=Level.USER,
        severity=Severity.MEDIUM,
        wanted="Custom data-centre regions on, only the institution's allowed regions",
        why="Zoom may route a meeting through data centres in other countries, close to "
        "participants or when a nearer centre performs poorly. Choosing the regions keeps "
        "meeting traffic where the institution allows it.",
        how_to_fix="Settings › Meeting › In Meeting (Advanced) › Select data center regions "
        "for meetings/webinars hosted by your account",
        concern="residency",
        guidance="Concern 2",
        fields=("in_meeting.custom_data_center_regions", "in_meeting.data_center_regions"),
        check="regions",
        fixer=fix_regions,
        cis=("1.1.4.1.1", "1.1.4.1.2"),
    ),
    Item(
        id="concern.residency.recordings",
        title="Cloud recordings stored in an allowed country",
        group="concerns",
        level=Level.USER,
        severity=Severity.MEDIUM,
        wanted="An allowed country, where Zoom offers one",
        why="Cloud recordings may otherwise be stored outside Canada, often in the United "
        "States, under that country's laws on who may access them.",
        how_to_fix="Profile › Communications content storage location (where Zoom offers "
        "the choice); or record to your computer instead",
        concern="residency",
        guidance="Concern 2",
        fields=("profile.recording_storage_location",),
        check="storage",
        fixer=fix_storage,
    ),
    Item(
        id="concern.client.current",
        title="Zoom client up to date",
        group="concerns",
        level=Level.USER_OBJECT,
        severity=Severity.HIGH,
        wanted="The institution's minimum supported version or newer",
        why="Serious flaws are found in Zoom from time to time and fixed in new versions: in "
        "April 2020 several were announced one day and fixed the next, but only for people "
        "who updated. An old client stays exposed.",
        how_to_fix="In the Zoom client: your profile picture › Check for Updates",
        concern="client",
        guidance="Concern 4",
        source="user",
        fields=("last_client_version",),
        check="client_version",
    ),
)

ITEMS_BY_ID: Mapping[str, Item] = {item.id: item for item in ITEMS}


# The institution's best practices for hosts, in its order, each told by the item it checks.
BEST_PRACTICES: tuple[Item, ...] = tuple(
    ITEMS_BY_ID[item_id]
    for item_id in (
        "practice.titles.not_sensitive",
        "meeting.passcode.new",
        "meeting.screen_sharing.host_only",
        "practice.links.shared_directly",
        "practice.links.embedded_passcode",
        "practice.names.minimal",
        "recording.consent",
        "practice.video.off_on_join",
        "practice.email.institutional",
    )
)
# The headings of the privacy page's sections, by the anchor an item's `concern` names.
CONCERNS: Mapping[str, str] = {
    "confidentiality": "Confidentiality and encryption",
    "residency": "Your data may leave Canada",
    "meeting-security": "Meeting security",
    "client": "Security flaws and keeping the client up to date",
}


def items_in_group(group_id: str) -> tuple[Item, ...]:
    return tuple(item for item in ITEMS if item.group == group_id)


def profile_items() -> tuple[Item, ...]:
    """The items a hardened profile sets."""
    return tuple(item for item in ITEMS if item.in_profile)


def meeting_fixes() -> dict[str, tuple[str, MeetingCheck]]:
    """Meeting field -> (item id, its check): what the meetings fix sets on each meeting."""
    return {check.field: (item.id, check) for item in ITEMS for check in item.meeting_checks}
