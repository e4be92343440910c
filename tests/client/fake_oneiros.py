"""An in-process fake Oneiros server for SDK tests: records requests, scripts errors."""

from __future__ import annotations

import io
import threading
import time

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from PIL import Image

from oneiros.v1 import oneiros_pb2 as pb
from oneiros.v1 import oneiros_pb2_grpc

LATENT = 4


def png(value: int, size: int = 28, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (size, size), value).save(buf, format="PNG")
    return buf.getvalue()


def abort(context, code: grpc.StatusCode, message: str, *, violations=(), retry_s: float | None = None):
    details = []
    if violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
            ]
        )
        details.append(bad)
    if retry_s is not None:
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(nanos=int(retry_s * 1e9))))
    packed = []
    for d in details:
        a = any_pb2.Any()
        a.Pack(d)
        packed.append(a)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=packed)
    context.abort_with_status(rpc_status.to_status(status))


def stylized() -> pb.StylizeResponse:
    """The answer of Stylize, and the last event of StylizeStream."""
    return pb.StylizeResponse(
        image=pb.Image(data=png(5, 16, "RGB")),
        loss_history=[2.0, 1.0],
        content_loss=0.5,
        style_loss=0.25,
        tv_loss=0.125,
        elapsed_ms=7,
    )


class FakeOneiros(oneiros_pb2_grpc.OneirosServicer):
    """Fixed answers, recorded requests, scripted failures."""

    def __init__(self):
        self.requests: list = []
        self.metadata: list = []
        self.unavailable_first = 0  # fail this many calls with UNAVAILABLE before answering
        self.exhausted_first = 0  # then this many with RESOURCE_EXHAUSTED ...
        self.exhausted_retry_s: float | None = None  # ... carrying this RetryInfo (None: none)
        self.attempts = 0
        self.stream_cancelled = threading.Event()

    def _record(self, request, context):
        self.requests.append(request)
        self.metadata.append(dict(context.invocation_metadata()))
        self.attempts += 1
        if self.unavailable_first > 0:
            self.unavailable_first -= 1
            abort(context, grpc.StatusCode.UNAVAILABLE, "shutting down", retry_s=0.01)
        if self.exhausted_first > 0:
            self.exhausted_first -= 1
            abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, "exhausted", retry_s=self.exhausted_retry_s)

    def ListModels(self, request, context):
        self._record(request, context)
        return pb.ListModelsResponse(
            models=[
                pb.ModelInfo(
                    name="vae-mnist-2d",
                    version="1",
                    kind=pb.VAE,
                    runtime="onnxruntime",
                    device="cpu",
                    status=pb.READY,
                    default_for=["Decode"],
                    latent_size=2,
                    attributes=["thickness"],
                    metrics={"neg_elbo_nats": 140.5},
                ),
                pb.ModelInfo(
                    name="char-kjv",
                    version="2",
                    kind=pb.LANGUAGE_MODEL,
                    status=pb.UNAVAILABLE,
                    status_reason="sha256 mismatch",
                ),
            ]
        )

    def GetModel(self, request, context):
        self._record(request, context)
        if request.name != "vae-mnist-2d":
            abort(context, grpc.StatusCode.NOT_FOUND, f"no model named {request.name!r}")
        info = pb.ModelInfo(name=request.name, version="1", kind=pb.VAE, status=pb.READY, image_shape=[28, 28, 1])
        info.default_parameters.update({"extent": 2.0})
        return info

    def Decode(self, request, context):
        self._record(request, context)
        if request.count > 64:
            abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                "count: must be in [0, 64]",
                violations=[("count", "must be in [0, 64]")],
            )
        if request.HasField("grid"):
            n = request.grid.steps**2
        elif request.latents:
            n = len(request.latents)
        else:
            n = request.count
        latents = [pb.Vector(values=[float(i)] * LATENT) for i in range(n)]
        return pb.DecodeResponse(images=[pb.Image(data=png(10 * i)) for i in range(n)], latents=latents)

    def EditLatent(self, request, context):
        self._record(request, context)
        n = len(request.strengths) or (request.interpolation_steps or 1)
        return pb.EditLatentResponse(
            images=[pb.Image(data=png(20 * i)) for i in range(n)],
            latents=[pb.Vector(values=[0.5 * i] * LATENT) for i in range(n)],
            source_latent=pb.Vector(values=[1.0, 2.0, 3.0, 4.0]),
        )

    def Sample(self, request, context):
        self._record(request, context)
        return pb.SampleResponse(
            completions=[
                pb.Completion(text=f"text{i}", finish_reason=pb.LENGTH, token_count=5, mean_entropy_bits=1.5, index=i)
                for i in reversed(range(request.n or 1))
            ]
        )

    def SampleStream(self, request, context):
        self._record(request, context)
        context.add_callback(self.stream_cancelled.set)
        temperature = request.temperature if request.HasField("temperature") else 1.0
        if request.prompt == "forever":
            while context.is_active():
                yield pb.SampleChunk(text="x")
                time.sleep(0.01)
            return
        for ch in "abc":
            yield pb.SampleChunk(index=0, text=ch)
        yield pb.SampleChunk(index=0, text="!", finish_reason=pb.STOP, token_count=4, mean_entropy_bits=temperature)

    def Dream(self, request, context):
        self._record(request, context)
        return pb.DreamResponse(image=pb.Image(data=png(99, 32, "RGB")), loss_history=[1.0, 2.0], elapsed_ms=12)

    def DreamStream(self, request, context):
        self._record(request, context)
        for step in range(1, 4):
            p = pb.Progress(step=step, total_steps=3, octave=1, loss=float(step))
            if request.preview_every and step % request.preview_every == 0:
                p.preview.data = png(step, 8, "RGB")
            yield pb.DreamProgress(progress=p)
        yield pb.DreamProgress(result=self.Dream(request, context))

    def Stylize(self, request, context):
        self._record(request, context)
        return stylized()

    def StylizeStream(self, request, context):
        self._record(request, context)
        for step in range(1, 3):
            yield pb.StylizeProgress(progress=pb.Progress(step=step, total_steps=2, loss=3.0 - step, style_loss=1.0))
        yield pb.StylizeProgress(result=stylized())
