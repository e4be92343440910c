"""Hostile requests: unknown enum numbers, huge echoed values, many violations (issue 10, items 1-2)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from oneiros.v1 import oneiros_pb2 as pb
from oneiros_server.errors import FieldError, Violation
from oneiros_server.transport.grpc.status import to_status
from tests.grpc_helpers import field_violations
from tests.server.hostile import TRAILER_BUDGET, call, every_kind_repository, trailer_bytes, valid_requests

LONG = "x" * 100_000

ENUMS = [
    ("ListModels", "kind", 99),
    ("Dream", "output_format", 3),
    ("DreamStream", "output_format", 7),
    ("Dream", "output_format", -1),
    ("Stylize", "optimizer", 2),
    ("StylizeStream", "init", 99),
    ("Stylize", "output_format", -1),
    ("Decode", "output_format", 99),
    ("EditLatent", "interpolation", 5),
    ("EditLatent", "output_format", 3),
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return every_kind_repository(tmp_path_factory.mktemp("models"))


@pytest.fixture
def running(serve, repo):
    return serve(repo, torch_threads=1)


def _error(running, rpc: str, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call(running.stub, rpc, request)
    return err.value


def test_unknown_enum_numbers_are_invalid_argument_before_any_work(running):
    for rpc, field, number in ENUMS:
        request = valid_requests()[rpc]
        setattr(request, field, number)
        err = _error(running, rpc, request)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (rpc, field, err.details())
        assert field_violations(err) == [field]
        assert str(number) in err.details() and "allowed" in err.details()
    jobs = running.server.repository.resolve("", "Dream").engine_set.jobs
    assert jobs.stats.submitted == 0  # the unary Dream no longer runs the job before failing


def test_huge_values_are_cut_and_every_error_fits_its_trailer(running):
    cases = [
        ("GetModel", pb.GetModelRequest(name=LONG), grpc.StatusCode.NOT_FOUND),
        ("GetModel", pb.GetModelRequest(name="tiny-vae", version=LONG), grpc.StatusCode.NOT_FOUND),
        ("Dream", pb.DreamRequest(model=LONG), grpc.StatusCode.NOT_FOUND),
        ("Stylize", pb.StylizeRequest(model=LONG), grpc.StatusCode.NOT_FOUND),
        ("Sample", pb.SampleRequest(model="é" * 100_000), grpc.StatusCode.NOT_FOUND),
    ]
    stylize = valid_requests()["Stylize"]
    stylize.content_layers[:] = [LONG + str(i) for i in range(200)]
    cases.append(("Stylize", stylize, grpc.StatusCode.INVALID_ARGUMENT))
    dream = valid_requests()["Dream"]
    dream.layer_weights.clear()
    dream.layer_weights.update({f"{i}{LONG[:5000]}": 1.0 for i in range(200)})
    cases.append(("Dream", dream, grpc.StatusCode.INVALID_ARGUMENT))
    sample = valid_requests()["Sample"]
    sample.stop.extend([""] * 200)
    cases.append(("Sample", sample, grpc.StatusCode.INVALID_ARGUMENT))
    edit = valid_requests()["EditLatent"]
    edit.edits[0].attribute = "🦄" * 100_000
    cases.append(("EditLatent", edit, grpc.StatusCode.INVALID_ARGUMENT))
    for rpc, request, code in cases:
        err = _error(running, rpc, request)
        assert err.code() == code, (rpc, err.code(), err.details()[:200])
        assert trailer_bytes(err) < TRAILER_BUDGET / 2, rpc
        cut = ("characters)", " more", "at most")  # cut, counted, or refused by its length before conversion
        assert any(word in err.details() for word in cut), err.details()[:300]


def test_many_violations_are_capped_with_a_count():
    exc = FieldError("stop[0]", "must be 1 to 64 characters", *[Violation(f"stop[{i}]", "bad") for i in range(1, 200)])
    grpc_status = to_status(exc)
    details = dict(grpc_status.trailing_metadata)["grpc-status-details-bin"]
    assert len(details) + len(grpc_status.details.encode()) < TRAILER_BUDGET / 2
    parsed = status_pb2.Status.FromString(details)
    bad = error_details_pb2.BadRequest()
    parsed.details[0].Unpack(bad)
    assert len(bad.field_violations) == 21 and bad.field_violations[-1].description == "and 180 more"
    assert grpc_status.details.endswith("; and 180 more")


def test_long_odd_unicode_in_every_part_stays_small():
    wide = "\U0001f984" * 5000  # 4 bytes each in UTF-8, 12 once percent-encoded
    exc = FieldError(wide, wide, *[Violation(wide, wide) for _ in range(50)])
    grpc_status = to_status(exc)
    details = dict(grpc_status.trailing_metadata)["grpc-status-details-bin"]
    percent_encoded = 3 * len(grpc_status.details.encode())
    assert len(details) * 4 / 3 + percent_encoded < TRAILER_BUDGET
