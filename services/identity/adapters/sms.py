"""Sending one-time codes: through notify's SendOtp RPC (codes never enter the event log)."""

from __future__ import annotations

from typing import Protocol

from congdanso.notify.v1 import notify_pb2, notify_pb2_grpc
from servicekit.grpcclient import channel, internal_metadata


class OtpSender(Protocol):
    """Delivers a code to a phone number (E.164) in the user's language."""

    async def send(self, *, phone: str, code: str, language: str, purpose: str) -> None:
        """Send (or queue) the SMS; raise on failure."""


class NotifyOtpSender:
    """OtpSender calling NotifyService.SendOtp with the internal service token."""

    def __init__(self, notify_addr: str, internal_token: str, timeout: float = 5.0):
        self._stub = notify_pb2_grpc.NotifyServiceStub(channel(notify_addr))
        self._metadata = internal_metadata("identity", internal_token)
        self._timeout = timeout

    async def send(self, *, phone: str, code: str, language: str, purpose: str) -> None:
        """One SendOtp call."""
        await self._stub.SendOtp(notify_pb2.SendOtpRequest(phone=phone, code=code, language=language,
                                                           purpose=purpose),
                                 metadata=self._metadata, timeout=self._timeout)
