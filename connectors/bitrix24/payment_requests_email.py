"""`payment_request_email`: tell a contractor by e-mail, through the SMTP server in
`connectors.payment_requests.smtp`. Without one the e-mail is not sent and the trace says so.

Like a Telegram message, an e-mail cannot be looked up after a crash between the send and its
record, so that one case sends again; the Message-ID is derived from the effect key, so a mail
system that drops duplicate ids drops it.
"""
from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from pydantic import Field

from connectors.bitrix24.payment_requests_connector import SmtpSettings
from relay.actions.context import ActionContext
from relay.actions.params import MappingName, Params
from relay.errors import PermanentError, TransientError
from relay.registry import action
from relay.templating import TemplateStr


class EmailParams(Params):
    to: TemplateStr = Field("{{ request.email }}", description="recipient address (template)")
    mapping: MappingName = Field("payment_requests", description="mapping whose `templates` hold the subject and body")
    subject: str = Field("contractor_paid_subject", description="template name of the subject line")
    body: str = Field("contractor_paid_email", description="template name of the plain-text body")


def _template(ctx: ActionContext, p: EmailParams, name: str) -> str:
    templates = ctx.mapping(p.mapping).templates
    if name not in templates:
        raise PermanentError(f"mapping {p.mapping!r} has no template {name!r} (has: {', '.join(sorted(templates)) or 'none'})")
    return str(ctx.render(templates[name])).strip()


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """One SMTP session. 5xx answers are permanent (a bad address stays bad); the rest is retried."""
    context = ssl.create_default_context()
    try:
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds, context=context) \
            if settings.security == "ssl" else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        with smtp:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password.get_secret_value() if settings.password else "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"the mail server refused {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentError(f"the mail server refused the message: {exc.smtp_code}") from None
        raise TransientError(f"the mail server answered {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"mail server {settings.host}:{settings.port}: {type(exc).__name__}") from None


@action("payment_request_email", EmailParams)
def payment_request_email(ctx: ActionContext, p: EmailParams) -> None:
    """Send one e-mail (subject and body from mapping templates) once per rule and event, through the SMTP
    server of `connectors.payment_requests.smtp`; without one, only a trace note says what was not sent."""
    to = str(ctx.render(p.to)).strip()
    if "@" not in parseaddr(to)[1]:
        ctx.trace("email.skip", f"no e-mail address to send to ({to!r}); nothing sent")
        return
    subject, body = _template(ctx, p, p.subject), _template(ctx, p, p.body)
    try:
        settings: SmtpSettings | None = ctx.connector("payment_requests").settings.smtp
    except KeyError:  # the connector is not configured, so neither is a mail server
        settings = None
    if settings is None:
        ctx.trace("email.skip", f"e-mail to {to} not sent: no SMTP server is configured (connectors.payment_requests.smtp)",
                  to=to, subject=subject)
        return
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, to, subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<{hashlib.sha256(ctx.key().encode()).hexdigest()[:32]}@crm-relay>"
    message.set_content(body)
    ctx.effect(lambda: (send(settings, message), message["Message-ID"])[1], target=f"email:{to}",
               describe={"to": to, "subject": subject, "body": body})
