"""Amazon SES (sesv2 SendEmail): HTML + text digests with RFC 8058 one-click unsubscribe, paced and retried.

SES has no idempotency token for SendEmail; exactly-once comes from the caller's delivery ledger.
The idempotency key travels as an email tag so SES events can be matched back to the ledger entry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from wirewatch.delivery.mime import build_email, check_header_value, fold_subject, list_unsubscribe_headers
from wirewatch.delivery.pacing import TokenBucket
from wirewatch.delivery.result import SendResult, retry_send
from wirewatch.logs import logger

__all__ = ["SENDER_ERRORS", "SesSender"]

THROTTLING_ERRORS = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
)
_TRANSIENT_ERRORS = frozenset({"InternalFailure", "InternalServerError", "ServiceUnavailable", "RequestTimeout"})
# Permanent failures that are about our sending setup, not about the recipient: the caller should
# alert the operator rather than mark the subscription failing.
SENDER_ERRORS = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
    }
)
# SES sandbox rate: the safe assumption when the account's own rate cannot be read.
DEFAULT_SEND_RATE = 1.0
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class SesSender:
    """Sends one email per call through sesv2, never faster than the account's MaxSendRate."""

    def __init__(
        self,
        client: Any,
        *,
        sender: str,
        configuration_set: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        clock: Callable[[], float] = time.monotonic,
        backoff_base: float = 0.5,
        max_send_rate: float | None = None,
        raw_mime: bool | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        check_header_value("sender", sender)
        self._client = client
        self._sender = sender
        self._configuration_set = configuration_set
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._clock = clock
        self._backoff_base = backoff_base
        self._max_send_rate = max_send_rate
        # Simple content with Headers needs a recent botocore; otherwise build the MIME ourselves.
        self._raw_mime = not _simple_supports_headers(client) if raw_mime is None else raw_mime
        self._bucket: TokenBucket | None = None

    @property
    def send_rate(self) -> float:
        """Messages per second this sender allows itself (reads the account quota on first use)."""
        return self._pacer().rate

    def send_email(
        self,
        to: str,
        subject: str,
        html: str,
        text: str,
        *,
        unsubscribe_url: str | None,
        idempotency_key: str,
    ) -> SendResult:
        """Send one HTML + text email to `to`; throttling is retried, rejections are permanent failures."""
        request = self._request(to, subject, html, text, unsubscribe_url, idempotency_key)
        pacer = self._pacer()

        def once(attempt: int) -> SendResult:
            pacer.acquire()
            try:
                response = self._client.send_email(**request)
            except ParamValidationError:
                raise  # our bug, not a delivery failure
            except ClientError as exc:
                code = _error_code(exc)
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
                if code in THROTTLING_ERRORS or code in _TRANSIENT_ERRORS or status == 429 or status >= 500:
                    return SendResult("retry", attempts=attempt, detail=code)
                logger.warning("ses permanent failure", extra={"code": code, "key": idempotency_key})
                return SendResult(
                    "failed", attempts=attempt, detail=code, permanent=True, sender_side=code in SENDER_ERRORS
                )
            except BotoCoreError as exc:
                return SendResult("retry", attempts=attempt, detail=type(exc).__name__)
            message_id = str(response["MessageId"])
            logger.info("ses sent", extra={"key": idempotency_key, "message_id": message_id})
            return SendResult("sent", attempts=attempt, detail="sent", provider_id=message_id)

        return retry_send(
            once, max_attempts=self._max_attempts, backoff_base=self._backoff_base, sleep=self._sleep, name="ses"
        )

    def _request(
        self,
        to: str,
        subject: str,
        html: str,
        text: str,
        unsubscribe_url: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        check_header_value("recipient", to)
        if self._raw_mime:
            message = build_email(self._sender, to, subject, html, text, unsubscribe_url)
            content: dict[str, Any] = {"Raw": {"Data": message.as_bytes()}}
        else:
            # Simple content: SES builds the MIME, from the same folded subject and list headers.
            simple: dict[str, Any] = {
                "Subject": {"Data": fold_subject(subject), "Charset": "UTF-8"},
                "Body": {"Html": {"Data": html, "Charset": "UTF-8"}, "Text": {"Data": text, "Charset": "UTF-8"}},
            }
            headers = list_unsubscribe_headers(unsubscribe_url)
            if headers:
                simple["Headers"] = [{"Name": name, "Value": value} for name, value in headers]
            content = {"Simple": simple}
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [to]},
            "Content": content,
            "EmailTags": [{"Name": "wirewatch-key", "Value": _tag_value(idempotency_key)}],
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return request

    def _pacer(self) -> TokenBucket:
        if self._bucket is None:
            rate = self._max_send_rate if self._max_send_rate is not None else self._account_send_rate()
            self._bucket = TokenBucket(rate, clock=self._clock, sleep=self._sleep)
        return self._bucket

    def _account_send_rate(self) -> float:
        try:
            quota = self._client.get_account().get("SendQuota", {})
            rate = float(quota["MaxSendRate"])
        except (ClientError, BotoCoreError, KeyError, TypeError, ValueError) as exc:
            logger.warning(
                "ses send rate unavailable, using default",
                extra={"default": DEFAULT_SEND_RATE, "error": type(exc).__name__},
            )
            return DEFAULT_SEND_RATE
        return rate if rate > 0 else DEFAULT_SEND_RATE


def _simple_supports_headers(client: Any) -> bool:
    try:
        members = client.meta.service_model.shape_for("Message").members
    except (AttributeError, LookupError):
        return False
    return "Headers" in members


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "unknown")


def _tag_value(key: str) -> str:
    return _TAG_UNSAFE.sub("_", key)[:256] or "none"
