"""Request bodies of the REST API (pydantic): validated before any service is called, and the
source of the request schemas in /api/openapi.json.

Bodies are strict about shape (unknown keys are refused, so a typo such as ``expected_verison``
is an error instead of a silently ignored field); the *values* of grid fields are validated by the
library's field types, which know each field's type and options.

Text lengths come from :data:`crm_lib.limits.TEXT_LIMITS`, the one table the services enforce, so
the ``maxLength`` published in /api/openapi.json is the limit the server applies.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from crm_lib.limits import MAX_JSON_DEPTH, TEXT_LIMITS, max_length


def _whole_number(value: Any) -> Any:
    # JSON has one number type: 3.0 is a valid "integer" in JSON Schema, so accept it as 3.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Version = Annotated[int, Field(ge=1, le=2**53), BeforeValidator(_whole_number)]
#: A record id (SQLite integers stop at 2**63; JSON numbers are exact up to 2**53).
Id = Annotated[int, Field(ge=1, le=2**53), BeforeValidator(_whole_number)]
Role = Literal["admin", "member"]


def limited(kind: str, *, min_length: int = 1) -> Any:
    """Field metadata for one declared kind of text: its limit becomes ``maxLength``."""
    return Field(min_length=min_length, max_length=max_length(kind))


def _value_limits() -> str:
    kinds = ("investor_name", "person_name", "fund_name", "text", "long_text", "url", "email")
    kinds += ("phone", "option_name")
    return "; ".join(f"{TEXT_LIMITS[k].what}: {max_length(k):,}" for k in kinds)


#: How a record's ``fields`` are checked, in the OpenAPI (a JSON Schema cannot say it per field).
FIELD_VALUES = (
    "Values by field key or label, each checked by its field's type. Text limits (characters): "
    f"{_value_limits()}. Numbers must be finite (no NaN or Infinity) and whole numbers within "
    f"-2**63..2**63-1; text must be valid Unicode (no unpaired surrogates); bodies nest at most "
    f"{MAX_JSON_DEPTH} levels. Refusals are 422 naming the field."
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class LoginBody(Body):
    email: Annotated[str, limited("email")]
    password: Annotated[str, limited("password")]


class PasswordChangeBody(Body):
    current_password: Annotated[str, limited("password")]
    new_password: Annotated[str, limited("password")]


class TokenCreateBody(Body):
    name: Annotated[str, limited("token_name")]
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650), BeforeValidator(_whole_number)] = (
        None
    )


class InviteBody(Body):
    email: Annotated[str, limited("email")]
    role: Role = "member"


class UserPatchBody(Body):
    role: Role | None = None
    is_active: bool | None = None


class FieldsBody(Body):
    """A new record: ``{"fields": {"Name": "Acme LP", "Status": "Meeting"}}`` (keys or labels)."""

    fields: Annotated[dict[str, Any], Field(description=FIELD_VALUES)]


class FieldsPatchBody(Body):
    """Changes to a record read at ``expected_version`` (409 if someone changed it since)."""

    fields: Annotated[dict[str, Any], Field(description=FIELD_VALUES)]
    expected_version: Version


class VersionBody(Body):
    """Archive or restore a record read at ``expected_version``."""

    expected_version: Version


class CommitmentBody(Body):
    """A new commitment of an investor to a fund (one live commitment per pair)."""

    investor_id: Id
    fund_id: Id
    amount: Any
    status: Literal["soft_circled", "committed", "closed"] = "committed"
    committed_on: str | None = None


class CommitmentPatchBody(Body):
    """Changes to a commitment read at ``expected_version``."""

    expected_version: Version
    amount: Any = None
    status: Literal["soft_circled", "committed", "closed"] | None = None
    committed_on: str | None = None


class StateBody(BaseModel):
    """The grid document from GET /fundraising/state, edited, with the version it was read at.

    ``version``, ``updated_at``, ``updated_by`` and ``owners`` as read may be left in; they are
    ignored.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    expected_version: Version
    version: int | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    investors: list[dict[str, Any]] | None = None
    funds: list[dict[str, Any]] | None = None
    fields: list[dict[str, Any]] | None = None
    views: list[dict[str, Any]] | None = None
    owners: list[dict[str, Any]] | None = None  # as read; ignored (owners are set per investor)


class FeatureRequestBody(Body):
    title: Annotated[str, limited("feature_title")]
    body: Annotated[str, limited("feature_body", min_length=0)] = ""


class FeatureRequestPatchBody(Body):
    """Vote (``true``/``false``) and, for admins, set the status of the version read."""

    vote: bool | None = None
    status: Literal["open", "planned", "done", "declined"] | None = None
    expected_version: Version | None = None


class ViewSettings(Body):
    """A saved view's settings; omitted settings keep their defaults (or current values)."""

    shared: bool | None = None
    list_membership: Literal["all", "main", "follow_up", "graveyard", "longshot"] | None = None
    filters: dict[str, Any] | None = None
    sorts: list[dict[str, Any]] | None = None
    hidden_fields: list[str] | None = None
    frozen_fields: list[str] | None = None
    widths: dict[str, int] | None = None
    field_order: list[str] | None = None
    #: the field the view is grouped by; "" removes the grouping
    group_by: Annotated[str, limited("field_label", min_length=0)] | None = None


class ViewBody(ViewSettings):
    name: Annotated[str, limited("view_name")]


class ViewPatchBody(ViewSettings):
    name: Annotated[str, limited("view_name")] | None = None
    expected_version: Version


class DefaultViewBody(Body):
    view_id: Id | None


TargetText = Annotated[str, Field(min_length=1, max_length=200)]
ColumnName = Annotated[str, Field(min_length=1, max_length=500)]


class ImportBody(Body):
    """An Airtable CSV export, base64-encoded (so any encoding arrives byte for byte)."""

    file_name: Annotated[str, limited("file_name")]
    content_base64: Annotated[str, Field(min_length=1)]
    dry_run: bool = True
    key: ColumnName | None = None
    profile: Annotated[str, limited("import_profile")] | None = None
    mapping: dict[ColumnName, TargetText] | None = None
    date_orders: dict[ColumnName, Literal["mdy", "dmy"]] | None = None
    encoding: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    skip_bad_rows: bool = False
    archive_missing: bool = False


Count = Annotated[int, Field(ge=0, le=1000), BeforeValidator(_whole_number)]


class BackupBody(Body):
    kind: Literal["manual"] = "manual"


class BackupIdBody(Body):
    backup_id: Id


class RestoreBody(Body):
    """A restore names the backup and repeats its id as a typed confirmation."""

    backup_id: Id
    confirm: Annotated[str, limited("confirmation")]


class BackupPolicyBody(Body):
    daily: Count | None = None
    weekly: Count | None = None
    monthly: Count | None = None
    expected_version: Annotated[int, Field(ge=0, le=2**53), BeforeValidator(_whole_number)]


class ProposalDecisionBody(Body):
    """Approve or reject email proposals; approving may add the correspondents as people."""

    ids: Annotated[list[Id], Field(min_length=1, max_length=500)]
    decision: Literal["approve", "reject"]
    add_people: bool = False


class EmailAliasBody(Body):
    """Another address of a person: their mail from it links to them (past mail too)."""

    address: Annotated[str, limited("email")]


class MailboxSharingBody(Body):
    """What others see of a mailbox's mail; its owner or an admin sets it."""

    sharing: Literal["everything", "subject", "metadata"]
    expected_version: Version


class DigestPolicyBody(Body):
    """Change the digest policy: only the keys given; ``expected_version`` as read (409)."""

    enabled: bool | None = None
    send_at: Annotated[str, limited("clock_time", min_length=4)] | None = None
    timezone: Annotated[str, limited("time_zone")] | None = None
    transport: Literal["auto", "gmail", "smtp"] | None = None
    expected_version: Annotated[int, Field(ge=0, le=2**53), BeforeValidator(_whole_number)]


class DigestRecipientsBody(Body):
    """Admins to send to (default: every admin; for the test email, you)."""

    to: Annotated[list[Annotated[str, limited("email")]], Field(max_length=50)] | None = None


#: A value of a question's named parameter: text, a number, true/false or null.
ParameterValue = (
    Annotated[str, Field(max_length=200)]
    | Annotated[int, Field(ge=-(2**53), le=2**53)]
    | float
    | bool
    | None
)
#: Values of an answer's named parameters ($INVESTOR_1, $DAYS), by name.
Parameters = Annotated[
    dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")], ParameterValue],
    Field(max_length=20),
]


class AskBody(Body):
    """A question in plain English, or a curated question by ``key`` with its ``params``;
    ``dry_run`` returns what would be sent to Claude and sends nothing."""

    question: Annotated[str, limited("question", min_length=0)] = ""
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = None
    params: Parameters | None = None
    dry_run: bool = False

    @model_validator(mode="after")
    def _question_or_key(self) -> AskBody:
        if not self.question.strip() and self.key is None:
            raise ValueError("give a question, or the key of a curated question")
        return self


class AskSqlBody(Body):
    """SQL (an answer's, edited) run through the same validator; ``params`` its values."""

    sql: Annotated[str, limited("sql")]
    params: Parameters | None = None
    question: Annotated[str, limited("question", min_length=0)] = ""


#: A probability between 0 and 1 (JSON has one number type: 1 is 1.0).
Probability = Annotated[float, Field(ge=0, le=1)]
Amount = Annotated[float, Field(ge=0, le=1e15)]
DateText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class StageBody(Body):
    """A pipeline stage: its name, default probability (0 to 1), place and kind."""

    name: Annotated[str, limited("stage_name")]
    probability: Probability
    position: Annotated[int, Field(ge=1, le=1000)] | None = None
    kind: Literal["open", "won", "lost"] = "open"


class StagePatchBody(Body):
    expected_version: Version
    name: Annotated[str, limited("stage_name")] | None = None
    probability: Probability | None = None
    position: Annotated[int, Field(ge=1, le=1000)] | None = None
    kind: Literal["open", "won", "lost"] | None = None


class _OpportunityFields(Body):
    stage_id: Id | None = None
    expected_amount: Amount | None = None
    probability: Probability | None = None
    owner_id: Id | None = None
    expected_close: DateText | None = None
    next_step: Annotated[str, limited("text", min_length=0)] | None = None


class OpportunityBody(_OpportunityFields):
    """A new open opportunity: the investor, the fund, and optionally where it starts."""

    investor_id: Id
    fund_id: Id


class OpportunityPatchBody(_OpportunityFields):
    """Changes to an opportunity read at ``expected_version`` (``null`` clears a value)."""

    expected_version: Version
    lost_reason: Annotated[str, limited("text", min_length=0)] | None = None


class MoveBody(Body):
    stage_id: Id
    expected_version: Version


class CloseBody(Body):
    reason: Annotated[str, limited("text")]
    expected_version: Version


class _TaskFields(Body):
    investor_id: Id | None = None
    person_id: Id | None = None
    opportunity_id: Id | None = None
    assignee_id: Id | None = None
    due_on: DateText | None = None


class TaskBody(_TaskFields):
    """A new task; assigned to you unless ``assignee_id`` says."""

    title: Annotated[str, limited("task_title")]
    notes: Annotated[str, limited("long_text", min_length=0)] = ""
    priority: Literal["low", "normal", "high"] = "normal"
    source: Literal["manual", "automation", "email"] = "manual"


class TaskPatchBody(_TaskFields):
    """Changes to a task read at ``expected_version`` (``null`` clears a value)."""

    expected_version: Version
    title: Annotated[str, limited("task_title")] | None = None
    notes: Annotated[str, limited("long_text", min_length=0)] | None = None
    priority: Literal["low", "normal", "high"] | None = None
    status: Literal["open", "done", "dismissed"] | None = None


class RuleBody(Body):
    """An automation rule: When ``trigger``, if ``conditions``, then ``actions`` (see
    crm_lib.automations). Or ``template``: one of the ready-made rules."""

    name: Annotated[str, limited("text")] | None = None
    enabled: bool = False
    trigger: dict[str, Any] | None = None
    conditions: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None
    template: (
        Literal["graveyard_after_silence", "follow_up_no_reply", "main_on_commitment"] | None
    ) = None

    @model_validator(mode="after")
    def _whole_or_template(self) -> RuleBody:
        if self.template is None and (
            self.name is None or self.trigger is None or not self.actions
        ):
            raise ValueError("send a template, or a rule's name, trigger and actions")
        return self


class RulePatchBody(Body):
    expected_version: Version
    name: Annotated[str, limited("text")] | None = None
    enabled: bool | None = None
    trigger: dict[str, Any] | None = None
    conditions: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None
