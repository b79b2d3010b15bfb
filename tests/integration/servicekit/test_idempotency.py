"""Idempotency-Key: the store against a real database (SQLite, or PostgreSQL with CDS_TEST_POSTGRES=1),
and the gRPC server mechanism end to end over a real socket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import MetaData, func, select

from congdanso.reports.v1 import reports_pb2, reports_pb2_grpc
from servicekit.auth import current_principal
from servicekit.db import make_engine
from servicekit.errors import AppError, InvalidArgument
from servicekit.grpcclient import internal_metadata
from servicekit.grpcserver import ERROR_CODE_KEY, ERROR_FIELD_KEY, GrpcServer
from servicekit.idempotency import (
    OK, IdempotencyKeyInProgress, IdempotencyKeyReused, IdempotencyStore, Recorded, Reservation, check_key,
    idempotency_table, key_digest, request_hash,
)

metadata = MetaData()
table = idempotency_table(metadata)
METHOD = "/congdanso.reports.v1.ReportsService/AddComment"
INTERNAL = "internal-test-token"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def engine(database_url):
    eng = make_engine(database_url("idem"))
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(engine, clock) -> IdempotencyStore:
    return IdempotencyStore(engine, table, clock=clock)


def res(key: str = "k-1", body: bytes = b"body", principal: str = "u-1", method: str = METHOD) -> Reservation:
    return Reservation(principal, key, method, request_hash(body))


async def rows(engine) -> list[dict]:  # noqa: ANN001
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(select(table))).mappings()]


# --- the store -----------------------------------------------------------------------------------

async def test_first_request_reserves_then_a_retry_gets_the_recorded_response(store, engine):
    assert await store.reserve(res()) is None
    await store.record(res(), Recorded(OK, response=b"\x0a\x03abc"))
    again = await store.reserve(res())
    assert again == Recorded(OK, response=b"\x0a\x03abc")
    assert len(await rows(engine)) == 1


async def test_another_request_under_the_same_key_is_refused(store):
    assert await store.reserve(res(body=b"one")) is None
    await store.record(res(body=b"one"), Recorded(OK, response=b"x"))
    with pytest.raises(IdempotencyKeyReused) as err:
        await store.reserve(res(body=b"two"))
    assert (err.value.status, err.value.code) == ("ALREADY_EXISTS", "idempotency_key_reused")


async def test_a_retry_while_the_first_runs_is_told_it_is_in_progress(store):
    assert await store.reserve(res()) is None
    with pytest.raises(IdempotencyKeyInProgress) as err:
        await store.reserve(res())
    assert (err.value.status, err.value.code) == ("ABORTED", "idempotency_key_in_progress")
    with pytest.raises(IdempotencyKeyReused):  # a different body is a reuse, in progress or not
        await store.reserve(res(body=b"other"))


async def test_concurrent_reservations_let_exactly_one_through(store):
    outcomes = await asyncio.gather(*(store.reserve(res()) for _ in range(6)), return_exceptions=True)
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, IdempotencyKeyInProgress) for o in outcomes if o is not None)


async def test_release_lets_a_retry_run_again(store, engine):
    assert await store.reserve(res()) is None
    await store.release(res())
    assert await rows(engine) == []
    assert await store.reserve(res()) is None


async def test_recorded_client_errors_are_replayed(store):
    assert await store.reserve(res()) is None
    await store.record(res(), Recorded("INVALID_ARGUMENT", code="comment_too_long", message="too long",
                                       field="body"))
    again = await store.reserve(res())
    err = again.error()
    assert (err.status, err.code, str(err), err.field) == ("INVALID_ARGUMENT", "comment_too_long", "too long", "body")


async def test_keys_are_per_caller_and_per_method(store):
    assert await store.reserve(res(principal="u-1")) is None
    assert await store.reserve(res(principal="u-2")) is None
    assert await store.reserve(res(method="/congdanso.reports.v1.ReportsService/UploadMedia")) is None


async def test_after_24_hours_the_key_is_new_again_and_old_rows_are_purged(store, engine, clock):
    assert await store.reserve(res(body=b"one")) is None
    await store.record(res(body=b"one"), Recorded(OK, response=b"x"))
    assert await store.reserve(res(key="k-2")) is None
    await store.record(res(key="k-2"), Recorded(OK, response=b"y"))
    clock.now += timedelta(hours=24, seconds=1)
    assert await store.reserve(res(body=b"two")) is None  # expired: a fresh start, even with another body
    assert await store.purge() == 1                         # k-2 went; k-1 was renewed
    assert [r["key"] for r in await rows(engine)] == [key_digest("k-1")]


async def test_an_abandoned_reservation_is_taken_over_after_its_lease(store, clock):
    assert await store.reserve(res()) is None  # the process died before recording
    clock.now += timedelta(seconds=30)
    with pytest.raises(IdempotencyKeyInProgress):
        await store.reserve(res())
    clock.now += timedelta(seconds=31)
    assert await store.reserve(res()) is None


async def test_neither_the_key_nor_the_answer_is_stored_in_the_clear(store, engine):
    secret = b"client-secret-0123456789"
    assert await store.reserve(res(key="my-key")) is None
    await store.record(res(key="my-key"), Recorded(OK, response=secret))
    [row] = await rows(engine)
    assert row["key"] == key_digest("my-key") and "my-key" not in row["key"]
    assert secret not in bytes(row["response"]) and row["grpc_status"] == OK and row["state"] == "done"


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "tab\t", "é"])
def test_keys_must_be_1_to_128_printable_ascii(key):
    with pytest.raises(InvalidArgument) as err:
        check_key(key)
    assert err.value.code == "invalid_idempotency_key"


def test_a_128_character_key_is_fine():
    assert check_key("~" * 128) == "~" * 128


# --- the gRPC server ------------------------------------------------------------------------------

class Unavailable(AppError):
    status = "UNAVAILABLE"
    code = "peer_unavailable"


class Comments(reports_pb2_grpc.ReportsServiceServicer):
    """AddComment that counts its effects; the body decides how it behaves."""

    def __init__(self) -> None:
        self.effects: list[str] = []
        self.failures = 0

    async def AddComment(self, request, context):  # noqa: ANN001, N802
        if request.body.startswith("slow"):
            await asyncio.sleep(0.5)
        if request.body == "invalid":
            raise InvalidArgument("comment refused", code="comment_refused", field="body")
        if request.body == "flaky" and self.failures == 0:
            self.failures += 1
            raise Unavailable("try again")
        if request.body == "crash":
            raise RuntimeError("bug")
        self.effects.append(request.body)
        return reports_pb2.Comment(id=f"c-{len(self.effects)}", body=request.body,
                                   author_role=current_principal.get().role)


@pytest.fixture
async def served(engine):
    server = GrpcServer("127.0.0.1:0", verifier=None, internal_token=INTERNAL)
    servicer = Comments()
    server.add(reports_pb2_grpc.add_ReportsServiceServicer_to_server, servicer,
               reports_pb2.DESCRIPTOR.services_by_name["ReportsService"].full_name)
    server.enable_idempotency(engine, table, methods={METHOD.lstrip("/")})
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    yield reports_pb2_grpc.ReportsServiceStub(channel), servicer
    await channel.close()
    await server.stop(0)


def meta(key: str | None, caller: str = "gateway") -> tuple:
    return internal_metadata(caller, INTERNAL) + ((("idempotency-key", key),) if key is not None else ())


def comment(body: str = "hello") -> reports_pb2.AddCommentRequest:
    return reports_pb2.AddCommentRequest(report_id="r-1", body=body)


async def failure(call) -> tuple[grpc.StatusCode, dict]:  # noqa: ANN001
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value.code(), dict(err.value.trailing_metadata() or ())


async def test_server_replays_the_first_response_without_a_second_effect(served):
    stub, servicer = served
    first = await stub.AddComment(comment(), metadata=meta("k-1"))
    again = await stub.AddComment(comment(), metadata=meta("k-1"))
    assert again == first and servicer.effects == ["hello"]
    other_caller = await stub.AddComment(comment(), metadata=meta("k-1", caller="other"))
    assert other_caller.id == "c-2"
    without_key = await stub.AddComment(comment(), metadata=meta(None))
    assert without_key.id == "c-3" and len(servicer.effects) == 3


async def test_server_refuses_another_body_under_the_same_key(served):
    stub, servicer = served
    await stub.AddComment(comment("one"), metadata=meta("k-1"))
    code, trailing = await failure(stub.AddComment(comment("two"), metadata=meta("k-1")))
    assert code == grpc.StatusCode.ALREADY_EXISTS and trailing[ERROR_CODE_KEY] == "idempotency_key_reused"
    assert servicer.effects == ["one"]


async def test_server_answers_in_progress_to_a_concurrent_duplicate(served):
    stub, servicer = served
    first = asyncio.ensure_future(stub.AddComment(comment("slow"), metadata=meta("k-1")))
    await asyncio.sleep(0.15)
    code, trailing = await failure(stub.AddComment(comment("slow"), metadata=meta("k-1")))
    assert code == grpc.StatusCode.ABORTED and trailing[ERROR_CODE_KEY] == "idempotency_key_in_progress"
    assert (await first).id == "c-1" and servicer.effects == ["slow"]


async def test_server_replays_a_deterministic_client_error(served):
    stub, servicer = served
    for _ in range(2):
        code, trailing = await failure(stub.AddComment(comment("invalid"), metadata=meta("k-1")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert trailing[ERROR_CODE_KEY] == "comment_refused" and trailing[ERROR_FIELD_KEY] == "body"


async def test_server_releases_the_key_after_a_transient_failure(served, engine):
    stub, servicer = served
    code, _ = await failure(stub.AddComment(comment("flaky"), metadata=meta("k-1")))
    assert code == grpc.StatusCode.UNAVAILABLE
    assert (await stub.AddComment(comment("flaky"), metadata=meta("k-1"))).id == "c-1"
    code, trailing = await failure(stub.AddComment(comment("crash"), metadata=meta("k-2")))
    assert code == grpc.StatusCode.INTERNAL
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(table)) == 1  # only k-1, done


async def test_server_finishes_and_records_a_request_whose_caller_gave_up(served):
    stub, servicer = served
    code, _ = await failure(stub.AddComment(comment("slow"), metadata=meta("k-1"), timeout=0.1))
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.sleep(0.6)  # the handler goes on to completion and its answer is recorded
    again = await stub.AddComment(comment("slow"), metadata=meta("k-1"))
    assert again.id == "c-1" and servicer.effects == ["slow"]


async def test_server_rejects_a_malformed_key(served):
    stub, servicer = served
    code, trailing = await failure(stub.AddComment(comment(), metadata=meta("x" * 129)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and trailing[ERROR_CODE_KEY] == "invalid_idempotency_key"
    assert servicer.effects == []


def test_unknown_method_names_are_refused_at_wiring_time(engine):
    server = GrpcServer("127.0.0.1:0", verifier=None)
    with pytest.raises(ValueError, match="unknown gRPC method"):
        server.enable_idempotency(engine, table, methods={"/congdanso.reports.v1.ReportsService/AddComent"})
